"""Reading datasets: every recognised shape in every format, explicit mappings, and each malformed
case with its own message naming the file, the line and the field."""
from __future__ import annotations

import csv
import json

import pytest

from tuning.data import Example, FieldMapping, load_examples
from tuning.errors import DatasetError


def write_jsonl(path, rows: list) -> str:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def write_csv(path, header: list[str], rows: list[list[str]]) -> str:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


CHAT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"},
        {"role": "assistant", "content": "Hello."}]
SHAPE_CASES = [
    ("prompt_completion", {"prompt": "P", "completion": "C"}, {"prompt": "P", "completion": "C"}),
    ("messages", {"messages": CHAT}, {"messages": CHAT}),
    ("alpaca", {"instruction": "Translate", "input": "chat", "output": "cat"},
     {"prompt": "Translate\n\nchat", "completion": "cat"}),
    ("alpaca", {"instruction": "Say hi", "input": "", "output": "hi"}, {"prompt": "Say hi", "completion": "hi"}),
    ("question_answer", {"question": "Q", "answer": "A"}, {"prompt": "Q", "completion": "A"}),
    ("input_output", {"input": "I", "output": "O"}, {"prompt": "I", "completion": "O"}),
]


@pytest.mark.parametrize(("shape", "record", "expected"), SHAPE_CASES)
def test_every_sft_shape_is_recognised_and_normalised(tmp_path, shape, record, expected):
    loaded = load_examples(write_jsonl(tmp_path / "d.jsonl", [record, record]))
    assert loaded.ok and loaded.shape == shape
    ex = loaded.examples[0]
    assert ex.model_dump(exclude_none=True, exclude={"source_line"}) == expected
    assert [e.source_line for e in loaded.examples] == [1, 2]


def test_dpo_shape_is_recognised_for_kind_dpo(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "P", "chosen": "good", "rejected": "bad"}])
    loaded = load_examples(path, kind="dpo")
    assert loaded.ok and loaded.shape == "dpo"
    assert loaded.examples[0].to_trl() == {"prompt": "P", "chosen": "good", "rejected": "bad"}
    sft = load_examples(path)  # the same file is not SFT data: the message says what SFT expects
    assert not sft.ok and "no recognised shape: columns found: prompt, chosen, rejected" in str(sft.problems[0])


@pytest.mark.parametrize("fmt", ["json", "json_data", "csv", "parquet"])
def test_every_format_reads_the_same_examples(tmp_path, fmt):
    rows = [{"question": f"Q{i}", "answer": f"A{i}"} for i in range(3)]
    if fmt == "json":
        path = tmp_path / "d.json"
        path.write_text(json.dumps(rows))
    elif fmt == "json_data":
        path = tmp_path / "d.json"
        path.write_text(json.dumps({"data": rows}))
    elif fmt == "csv":
        path = write_csv(tmp_path / "d.csv", ["question", "answer"], [[r["question"], r["answer"]] for r in rows])
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = tmp_path / "d.parquet"
        pq.write_table(pa.Table.from_pylist(rows), path)
    loaded = load_examples(path)
    assert loaded.ok and loaded.shape == "question_answer"
    assert [(e.prompt, e.completion) for e in loaded.examples] == [(f"Q{i}", f"A{i}") for i in range(3)]
    # JSONL/CSV: the file's line (CSV header is line 1); JSON/Parquet: the record index.
    assert [e.source_line for e in loaded.examples] == ([2, 3, 4] if fmt == "csv" else [1, 2, 3])


def test_csv_line_numbers_follow_records_that_span_lines(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["prompt", "completion"],
                     [["multi\nline\nprompt", "a"], ["second", ""]])
    loaded = load_examples(path)
    assert [e.source_line for e in loaded.examples] == [2]
    assert str(loaded.problems[0]) == "d.csv line 5: field 'completion' is empty"


def test_explicit_mapping_and_prompt_template(tmp_path):
    path = write_csv(tmp_path / "sql.csv", ["question", "query", "db_name"], [["How many?", "SELECT 1;", "shop"]])
    loaded = load_examples(path, FieldMapping(prompt_field="question", completion_field="query"))
    assert loaded.ok and loaded.shape == "mapped"
    assert (loaded.examples[0].prompt, loaded.examples[0].completion) == ("How many?", "SELECT 1;")
    templ = FieldMapping(prompt_template="{question}\n-- database: {db_name}", completion_field="query")
    assert load_examples(path, templ).examples[0].prompt == "How many?\n-- database: shop"


def test_mapping_with_system_field_gives_conversational_trl_rows(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"q": "Hi?", "a": "Hello.", "sys": "Be brief."}, {"q": "x", "a": "y"}])
    loaded = load_examples(path, FieldMapping(prompt_field="q", completion_field="a", system_field="sys"))
    assert loaded.ok
    assert loaded.examples[0].to_trl() == {
        "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"}],
        "completion": [{"role": "assistant", "content": "Hello."}],
    }
    assert loaded.examples[1].to_trl() == {"prompt": "x", "completion": "y"}  # no system prompt on that row


def test_messages_as_json_text_in_csv(tmp_path):
    path = write_csv(tmp_path / "chat.csv", ["conv"], [[json.dumps(CHAT)]])
    loaded = load_examples(path, FieldMapping(messages_field="conv"))
    assert loaded.ok and loaded.examples[0].to_trl() == {"messages": CHAT}


# Each malformed case: (file lines, expected "file line N: message", field).
GOOD = {"prompt": "p", "completion": "c"}
MALFORMED_JSONL = [
    ([GOOD, '{"prompt": "p", "completion": "c",}'], "data.jsonl line 2: invalid JSON (Expecting property name", None),
    ([GOOD, GOOD, {"prompt": "p"}], "data.jsonl line 3: missing field 'completion' (expected the prompt/completion"
     " shape like the other records; recognised shapes (sft): messages, prompt/completion", "completion"),
    ([GOOD, {"prompt": "p", "completion": "  "}], "data.jsonl line 2: field 'completion' is empty", "completion"),
    ([GOOD, {"prompt": None, "completion": "c"}], "data.jsonl line 2: field 'prompt' is empty (null)", "prompt"),
    ([GOOD, {"prompt": 42, "completion": "c"}], "data.jsonl line 2: field 'prompt' must be text, got a number",
     "prompt"),
    ([GOOD, {"prompt": "p", "completion": ["c"]}], "data.jsonl line 2: field 'completion' must be text, got a list",
     "completion"),
    ([GOOD, "[1, 2]"], "data.jsonl line 2: expected an object with fields, got a list", None),
    ([{"messages": CHAT}, {"messages": [{"role": "bot", "content": "x"}]}],
     "data.jsonl line 2: messages[0]: unknown role 'bot' (expected one of system, user, assistant, tool)",
     "messages[0].role"),
    ([{"messages": CHAT}, {"messages": [{"role": "user", "content": 3}]}],
     "data.jsonl line 2: messages[0]: content must be text, got a number", "messages[0].content"),
    ([{"messages": CHAT}, {"messages": [{"role": "user", "content": "hi"}]}],
     "data.jsonl line 2: field 'messages' has no assistant message: nothing to train on", "messages"),
    ([{"messages": CHAT}, {"messages": []}], "data.jsonl line 2: field 'messages' is empty (no messages)", "messages"),
]


@pytest.mark.parametrize(("rows", "expected", "field"), MALFORMED_JSONL)
def test_each_malformed_case_has_its_specific_message(tmp_path, rows, expected, field):
    loaded = load_examples(write_jsonl(tmp_path / "data.jsonl", rows))
    assert not loaded.ok
    assert loaded.problems_total == 1
    problem = loaded.problems[0]
    assert str(problem).startswith(expected), str(problem)
    assert (problem.file, problem.field) == ("data.jsonl", field)


def test_all_problems_are_reported_in_line_order_up_to_the_cap(tmp_path):
    rows = [GOOD, "{bad", {"prompt": "p"}, "", GOOD, {"prompt": 1, "completion": 2}] + ["nope"] * 60
    loaded = load_examples(write_jsonl(tmp_path / "data.jsonl", rows), max_problems=50)
    assert [p.line for p in loaded.problems[:4]] == [2, 3, 6, 6]  # blank line 4 is skipped; line 6 has two
    assert [p.field for p in loaded.problems[2:4]] == ["prompt", "completion"]
    assert len(loaded.problems) == 50 and loaded.problems_total == 64
    assert [e.source_line for e in loaded.examples] == [1, 5]
    assert loaded.total == 65  # records read, blank line not counted


def test_csv_without_the_mapped_columns_names_the_columns_found(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["question", "query"], [["q", "s"]] * 3)
    loaded = load_examples(path, FieldMapping(prompt_field="question", completion_field="answer"))
    assert loaded.problems_total == 1  # said once, not once per row
    assert str(loaded.problems[0]) == (
        "d.csv line 1: no column 'answer' in the file (columns found: question, query); "
        "use --completion-field to name the column that holds the completion"
    )
    assert loaded.problems[0].field == "answer"


def test_csv_row_with_the_wrong_number_of_cells(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("prompt,completion\np,c\np,c,extra\n")
    assert str(load_examples(path).problems[0]) == "d.csv line 3: expected 2 columns, found 3"


def test_unknown_shape_names_columns_found_and_shapes_recognised(tmp_path):
    loaded = load_examples(write_jsonl(tmp_path / "d.jsonl", [{"foo": "x", "bar": "y"}]))
    assert loaded.shape is None and not loaded.ok
    assert str(loaded.problems[0]) == (
        "d.jsonl: no recognised shape: columns found: foo, bar; recognised shapes (sft): messages, "
        "prompt/completion, instruction/input/output, question/answer, input/output; "
        "map other columns with --prompt-field/--completion-field"
    )


def test_json_that_is_not_a_list(tmp_path):
    path = tmp_path / "d.json"
    path.write_text('{"rows": []}')
    assert load_examples(path).problems[0].message == 'expected a JSON list of records or {"data": [...]}'
    path.write_text('[{"prompt": "a",\n "completion": }]')
    assert str(load_examples(path).problems[0]).startswith("d.json line 2: invalid JSON (Expecting value")


def test_unreadable_files_raise_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match=r"unsupported file type '\.txt'"):
        load_examples(tmp_path / "d.txt")
    with pytest.raises(DatasetError, match="no such file") as exc:
        load_examples(tmp_path / "missing.jsonl")
    assert isinstance(exc.value, ValueError)


def test_mapping_and_example_contracts_reject_nonsense():
    with pytest.raises(ValueError, match="messages_field cannot be combined"):
        FieldMapping(messages_field="m", prompt_field="p")
    with pytest.raises(ValueError, match="exactly one"):
        Example(prompt="p", source_line=1)
    with pytest.raises(ValueError, match="name each column"):
        FieldMapping(prompt_template="{} and {0}", completion_field="c")
    with pytest.raises(ValueError, match="invalid prompt template"):
        FieldMapping(prompt_template="{question", completion_field="c")


def test_empty_file_is_a_problem_not_a_silent_ok(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n")
    loaded = load_examples(path)
    assert not loaded.ok and str(loaded.problems[0]) == "empty.jsonl: no examples in the file"


def test_mapping_fields_of_the_other_kind_are_refused(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [GOOD])
    with pytest.raises(DatasetError, match="chosen_field does not apply to sft data") as exc:
        load_examples(path, FieldMapping(prompt_field="prompt", chosen_field="c"))
    assert exc.value.field == "chosen_field"
    with pytest.raises(DatasetError, match="completion_field does not apply to dpo data"):
        load_examples(path, FieldMapping(completion_field="completion"), kind="dpo")


@pytest.mark.parametrize("name", ["data", "data.jsonl"])
def test_a_folder_given_as_data_says_so(tmp_path, name):
    (tmp_path / name).mkdir()
    with pytest.raises(DatasetError, match="is a folder: give a file"):
        load_examples(tmp_path / name)


def test_latin1_names_the_line_and_says_how_to_fix_it(tmp_path):
    # 9,000 good rows first: the reader decodes in chunks, so a byte offset said nothing useful.
    rows = "".join(f"question {i},answer {i}\n" for i in range(9000))
    path = tmp_path / "d.csv"
    path.write_bytes(("prompt,completion\n" + rows).encode() + "Café?,oui\n".encode("latin-1") + b"q,a\n")
    problem = load_examples(path).problems[0]
    assert problem.line == 9002
    assert str(problem) == ("d.csv line 9002: not UTF-8 text (byte 0xe9 at column 4): "
                            "re-save the file as UTF-8 (a spreadsheet's 'CSV UTF-8')")
    json_path = tmp_path / "d.json"
    json_path.write_bytes(b'[{"prompt": "a",\n "completion": "caf\xe9"}]')
    assert str(load_examples(json_path).problems[0]).startswith(
        "d.json line 2: not UTF-8 text (byte 0xe9 at column 20)"
    )
    jsonl_path = tmp_path / "d.jsonl"
    jsonl_path.write_bytes(b'{"prompt": "a", "completion": "b"}\n{"prompt": "caf\xe9", "completion": "b"}\n')
    assert str(load_examples(jsonl_path).problems[0]).startswith(
        "d.jsonl line 2: not UTF-8 text (byte 0xe9 at column 16)"
    )
