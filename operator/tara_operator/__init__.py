"""TARA's kopf operator (reconciles DomainTraining and GGUFPhase). Handlers land with the operator issue.

Named ``tara_operator`` because a package named ``operator`` would shadow the standard library.
"""
