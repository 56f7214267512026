"""`ui.errors.show_errors`: one red line per problem, no traceback."""
from streamlit.testing.v1 import AppTest


def _page():
    from pydantic import BaseModel, ConfigDict, Field, ValidationError

    from ui.errors import show_errors

    class Form(BaseModel):
        model_config = ConfigDict(extra="forbid")
        rank: int = Field(ge=1)
        lr: float

    try:
        Form(rank=0, lr="fast")
    except ValidationError as exc:
        show_errors(exc)
    show_errors(FileNotFoundError("no file data.jsonl"))


def test_each_problem_is_one_error_line():
    at = AppTest.from_function(_page, default_timeout=30).run()
    assert not at.exception
    lines = [e.value for e in at.error]
    assert len(lines) == 3
    assert lines[0].startswith("rank: ") and "(got 0)" in lines[0]
    assert lines[1].startswith("lr: ") and lines[2] == "no file data.jsonl"
