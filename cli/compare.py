"""`ftadvisor compare`: the base model, RAG, the fine-tuned model and the hybrid on the same
held-out questions, as a background run (`ftadvisor runs list|show|cancel|resume` work on it)."""
from __future__ import annotations

import argparse
from pathlib import Path

from cli.data import add_mapping_arguments, mapping_from_args
from cli.follow import follow

ARMS = ("base", "rag", "finetuned", "finetuned_rag")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compare", help="compare prompting, RAG, fine-tuning and the hybrid on your own held-out questions",
        description="Split the dataset once (seeded), index the documents (or the training answers), fine-tune a "
        "QLoRA/LoRA adapter on the training split, and answer every held-out question with each arm. Writes "
        "results.json, answers.jsonl and metrics.md in the run folder. Blocks and shows progress unless "
        "--detach; Ctrl-C leaves the run going.",
    )
    p.add_argument("--data", required=True, metavar="FILE", help="question/answer dataset (.jsonl, .json, .csv, .parquet)")
    add_mapping_arguments(p)
    p.add_argument("--relevant-field", metavar="COLUMN",
                   help="column naming the document that answers each question (for hit@k, e.g. db_name)")
    p.add_argument("--docs", nargs="+", metavar="PATH", help="documents for retrieval (files or folders); "
                   "default: the training answers become the knowledge base")
    p.add_argument("--model", required=True, metavar="M", help="hub id or local model folder")
    p.add_argument("--arms", metavar="LIST", help=f"comma-separated arms (default: all of {','.join(ARMS)})")
    p.add_argument("--method", choices=("qlora", "lora"), help="how the fine-tuned arms train (default: qlora)")
    p.add_argument("--max-steps", type=int, metavar="N", help="stop training after N steps (default: by epochs)")
    p.add_argument("--epochs", type=float, metavar="E", help="passes over the training split (default: 2)")
    p.add_argument("--rank", type=int, metavar="R", help="LoRA rank (default: 16)")
    p.add_argument("--lr", type=float, metavar="X", help="learning rate (default: 2e-4)")
    p.add_argument("--batch-size", type=int, metavar="B", help="training batch size (default: 4)")
    p.add_argument("--seq-len", type=int, metavar="S", help="max training sequence length (default: 512)")
    p.add_argument("--eval-fraction", type=float, metavar="F", help="held-out share (default: 0.2)")
    p.add_argument("--eval-count", type=int, metavar="N", help="answer at most N held-out questions")
    p.add_argument("--seed", type=int, help="seed of the split, training and sampling (default: 42)")
    p.add_argument("--max-new-tokens", type=int, metavar="N", help="tokens per answer (default: 64)")
    p.add_argument("--sample", action="store_true", help="sample instead of greedy decoding")
    p.add_argument("--temperature", type=float, metavar="T", help="sampling temperature (with --sample)")
    p.add_argument("--system-prompt", metavar="TEXT", help="system prompt for every arm (and training)")
    p.add_argument("--k", type=int, metavar="K", help="passages retrieved per question (default: 3)")
    p.add_argument("--chunk-size", type=int, metavar="N", help="characters per chunk (default: 800)")
    p.add_argument("--chunk-overlap", type=int, metavar="N", help="characters of overlap (default: 100)")
    p.add_argument("--mmr", action="store_true", default=None, help="diversify passages (maximal marginal relevance)")
    p.add_argument("--forgetting-text", metavar="FILE", help="general text for the forgetting check (default: built-in)")
    p.add_argument("--gpu", metavar="NAME", help="GPU whose price the costs use (default: A100 80GB; see ftadvisor gpus)")
    p.add_argument("--output", metavar="RUN_DIR", help="run folder (default: a new folder in the runs root)")
    p.add_argument("--detach", action="store_true", help="start the run and return at once")
    p.set_defaults(func=_compare)


def spec_from_args(args: argparse.Namespace):
    """A CompareSpec from the flags; unset flags keep the spec's defaults."""
    from compare.spec import CompareSpec

    def given(**pairs):
        return {k: v for k, v in pairs.items() if v is not None}

    fields = given(relevant_field=args.relevant_field, eval_fraction=args.eval_fraction,
                   eval_count=args.eval_count, seed=args.seed, gpu=args.gpu, forgetting_text=args.forgetting_text)
    if args.docs:
        fields["docs"] = args.docs
    if args.arms:
        fields["arms"] = [a.strip() for a in args.arms.split(",") if a.strip()]
    generation = given(max_new_tokens=args.max_new_tokens, temperature=args.temperature,
                       system_prompt=args.system_prompt)
    if args.sample:
        generation["greedy"] = False
    rag = given(k=args.k, chunk_size=args.chunk_size, chunk_overlap=args.chunk_overlap, mmr=args.mmr)
    finetune = given(method=args.method, max_steps=args.max_steps, epochs=args.epochs, lora_rank=args.rank,
                     learning_rate=args.lr, batch_size=args.batch_size, max_seq_len=args.seq_len)
    if args.rank is not None:
        finetune["lora_alpha"] = 2 * args.rank
    output = args.output or _default_output()
    return CompareSpec(data=Path(args.data), mapping=mapping_from_args(args), model=args.model, output=Path(output),
                       generation=generation, rag=rag, finetune=finetune, **fields)


def _default_output() -> str:
    from common.settings import load_settings

    return str(load_settings().new_run_dir("compare"))


def _compare(args: argparse.Namespace) -> int:
    from compare.launch import launch_comparison

    run_dir = launch_comparison(spec_from_args(args))  # checks the data, columns and GPU first (exit 2)
    print(run_dir)
    if args.detach:
        return 0
    return follow(run_dir)  # prints metrics.md once the run completes
