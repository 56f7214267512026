"""`tuning.memory.estimate_request`: the estimator sees the training the JobSpec describes."""
from tuning.memory import estimate_request
from tuning.spec import JobSpec


def test_the_request_describes_the_job_and_takes_what_the_job_does_not_hold(tmp_path):
    spec = JobSpec(model="llama-3.1-8b", data=str(tmp_path / "d.jsonl"), output=str(tmp_path / "run"),
                   method="qlora", lora_rank=8, lora_dropout=0.1, grad_accum=4, max_seq_len=1024)
    req = estimate_request(spec, gpu="H100 SXM", train_tokens=1000, epochs=3)
    assert (req.method, req.quant, req.precision, req.lora_rank, req.lora_dropout) == ("qlora", "nf4", "bf16", 8, 0.1)
    assert (req.gradient_accumulation, req.seq_len, req.gpu, req.train_tokens, req.epochs) == (4, 1024, "H100 SXM", 1000, 3)
    assert estimate_request(spec, device="cpu").precision == "fp32"
