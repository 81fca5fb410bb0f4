"""Pure renderers: validated resource + settings → Kubernetes object bodies. No I/O here."""
