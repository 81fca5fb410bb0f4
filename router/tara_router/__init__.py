"""TARA router: OpenAI-compatible, emotion-aware routing to per-domain LoRA adapters on llama-server."""
