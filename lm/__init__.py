"""Model plumbing that training, RAG and the comparison share: the offline models and `pull`
(`lm.offline`), what a model field may name (`lm.refs`), loading (`lm.loading`), answering
prompts (`lm.generate`), the offline embedder (`lm.embeddings`), the tiny model (`lm.tiny`) and
GGUF reading (`lm.gguf`); the CPU engine: which engine answers (`lm.engines`), the GGUF writer
(`lm.gguf_writer`), its cache (`lm.conversion`) and the OpenVINO runner (`lm.openvino_runner`).
It imports neither `tuning` nor `rag_baseline` (both import it).

No re-exports: `import lm` costs nothing, and torch/transformers load inside the functions."""
