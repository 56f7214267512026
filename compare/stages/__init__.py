"""The comparison's stages, one module a stage, each with `run(pipeline)` (an answering stage
`run(pipeline, arm)`, a training stage `run(pipeline, adapter)`); `compare.plan.STAGES` orders them.
A stage reads the files earlier stages wrote (`compare.files`, `compare.records`) and writes its
own; no stage imports another."""
