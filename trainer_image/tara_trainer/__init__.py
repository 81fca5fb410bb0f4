"""TARA's trainer: what a DomainTraining Job (and the local mode) runs.

Data → LoRA/QLoRA training with checkpoints and resume → evaluation and quality gate → adapter
and manifest. It imports the API types, never kopf or the operator.
"""
