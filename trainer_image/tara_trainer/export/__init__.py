"""The GGUF build of a GGUFPhase: plan (pure), inputs, tools (subprocess edge), merge, verify, build."""
