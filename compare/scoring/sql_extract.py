"""SQL text handling for `sql-exec`: the query in a model's answer, the accepted alternatives of a
reference, whether (and by what) a query orders its result.

All of it works on a *masked* copy of the SQL in which comments, string literals, dollar-quoted
bodies and quoted identifiers are blanked out (same length, so positions carry over), so that a
';', '{', '(' or 'ORDER BY' inside a string is never taken for syntax.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_SQL_FENCES = {"sql", "postgresql", "postgres", "psql", "pgsql"}
_QUERY_START_LINE = re.compile(r"^[ \t]*(SELECT|WITH)\b", re.IGNORECASE | re.MULTILINE)
_QUERY_START_UPPER = re.compile(r"\b(SELECT|WITH)\b")
_GROUP_BY_ALL = re.compile(r"GROUP\s+BY\s+\{\}", re.IGNORECASE)
_ORDER_BY = re.compile(r"\bORDER\s+BY\b", re.IGNORECASE)
_ORDER_END = re.compile(r"\b(LIMIT|OFFSET|FETCH|FOR)\b", re.IGNORECASE)
_ITEM_SUFFIX = re.compile(r"\s+(NULLS\s+(FIRST|LAST)|ASC|DESC|USING\s+\S+)\s*$", re.IGNORECASE)
_COLUMN = re.compile(r'^(?:(?:"[^"]+"|\w+)\s*\.\s*)*(?:"([^"]+)"|(\w+))$')
READ_KEYWORDS = frozenset({"SELECT", "WITH", "VALUES", "TABLE"})


def mask(sql: str) -> str:
    """`sql` with comments blanked and the insides of quotes replaced by '_' (same length)."""
    out, i, n = list(sql), 0, len(sql)

    def fill(start: int, end: int, char: str) -> None:
        out[start:end] = char * (end - start)

    while i < n:
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            fill(i, end, " ")
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end + 2
            fill(i, end, " ")
        elif sql[i] in "'\"":
            close = _closing_quote(sql, i)
            fill(i + 1, close, "_")
            end = close + 1
        elif (tag := _DOLLAR_TAG.match(sql, i)) and not (i and (sql[i - 1].isalnum() or sql[i - 1] == "_")):
            close = sql.find(tag.group(0), tag.end())
            close = n if close < 0 else close
            fill(tag.end(), close, "_")
            end = close + len(tag.group(0))
        else:
            end = i + 1
        i = end
    return "".join(out)


def _closing_quote(sql: str, start: int) -> int:
    """Index of the quote closing the one at `start` (len(sql) if none): '' and "" are escaped
    quotes; in E'...' strings a backslash escapes the next character."""
    quote = sql[start]
    escapes = quote == "'" and start > 0 and sql[start - 1] in "eE" and (start < 2 or not sql[start - 2].isalnum())
    i = start + 1
    while i < len(sql):
        if escapes and sql[i] == "\\":
            i += 2
        elif sql.startswith(quote * 2, i):
            i += 2
        elif sql[i] == quote:
            return i
        else:
            i += 1
    return len(sql)


def split_statements(sql: str) -> list[str]:
    """The non-empty statements of `sql`, split on ';' outside quotes and comments."""
    masked, parts, start = mask(sql), [], 0
    for i, char in enumerate(masked):
        if char == ";":
            parts.append(sql[start:i])
            start = i + 1
    parts.append(sql[start:])
    return [p.strip() for p in parts if mask(p).strip()]


def extract_sql(answer: str) -> str:
    """The query in a model's answer, as defog-ai/sql-eval's runners take it, plus leading prose.

    sql-eval (runners/api_runner.py, openai_runner.py): the text after '</think>' or '[SQL]'; the
    first ```sql fenced block; its first statement (`.split(";")[0]`). Added here: a fence of any
    other language when no sql fence exists, an unclosed fence (an answer cut by max_new_tokens),
    and, without a fence, the text from the first line starting with SELECT/WITH (else the first
    upper-case SELECT/WITH), which drops leading prose. Not copied: sql-eval's
    `clean_generated_query` rewrites ('/ NULLIF (' -> '/ NULLIF (1.0 * '), which change the query.
    """
    text = answer
    for marker in ("</think>", "[SQL]"):
        if marker in text:
            text = text.split(marker, 1)[1]
    fenced = _fenced_block(text)
    if fenced is not None:
        text = fenced
    elif (start := _QUERY_START_LINE.search(text) or _QUERY_START_UPPER.search(text)) is not None:
        text = text[start.start(1):]
    statements = split_statements(text)
    return statements[0] if statements else ""


def _fenced_block(text: str) -> str | None:
    blocks = [(m.group(1).lower(), m.group(2)) for m in _FENCE.finditer(text)]
    for language, body in blocks:
        if language in _SQL_FENCES:
            return body
    return blocks[0][1] if blocks else None


def statement_keyword(sql: str) -> str:
    """The first keyword of a statement, upper case ('(SELECT 1)' -> 'SELECT'); '' if none."""
    match = re.match(r"[\s(]*([A-Za-z]+)", mask(sql))
    return match.group(1).upper() if match else ""


def reference_alternatives(reference: str, limit: int | None = None) -> list[str]:
    """Every query a reference accepts, as sql-eval's `get_all_minimal_queries` (eval/eval.py):
    statements separated by ';' are alternatives, and `{a, b}` in one lists columns of which any
    non-empty subset is accepted (a, b, then a, b), with `GROUP BY {}` grouping by the chosen ones.
    Repeats are dropped. With `limit`, the first `limit` only: they are built one by one, so
    `{c0, ..., c17}` (262,143 subsets) costs what `limit` of them cost."""
    found: dict[str, None] = {}
    for statement in split_statements(reference):
        for query in _expand_columns(statement):
            found[query] = None
            if limit is not None and len(found) >= limit:
                return list(found)
    return list(found)


def count_alternatives(reference: str) -> int:
    """How many queries `reference_alternatives` would build (repeats counted), by arithmetic:
    a list of n columns gives 2**n - 1 subsets."""
    total = 0
    for statement in split_statements(reference):
        options = _column_options(statement)
        total += 2 ** len(options[2]) - 1 if options else 1
    return total


def _column_options(query: str) -> tuple[int, int, list[str]] | None:
    """The first `{a, b}` of a query outside strings: (start, end, the listed columns)."""
    masked = mask(query)
    start = masked.find("{")
    end = masked.find("}", start + 1)
    if start < 0 or end < 0:
        return None
    options = [o.strip() for o in query[start + 1:end].split(",") if o.strip()]
    return (start, end, options) if options else None


def _expand_columns(query: str) -> Iterator[str]:
    found = _column_options(query)
    if found is None:
        yield query
        return
    start, end, options = found
    for size in range(1, len(options) + 1):
        for chosen in itertools.combinations(options, size):
            columns = ", ".join(chosen)
            right = _GROUP_BY_ALL.sub(lambda _, c=columns: f"GROUP BY {c}", query[end + 1:])
            yield query[:start] + columns + right


def _depths(masked: str) -> list[int]:
    depth, out = 0, []
    for char in masked:
        if char == ")":
            depth -= 1
        out.append(depth)
        if char == "(":
            depth += 1
    return out


def top_level_order_by(sql: str) -> str | None:
    """The items of the statement's own ORDER BY ('t.a DESC, 2'), not one in a subquery, a CTE or
    a window; None when the result is not ordered."""
    masked = mask(sql)
    depths = _depths(masked)
    starts = [m for m in _ORDER_BY.finditer(masked) if depths[m.start()] == 0]
    if not starts:
        return None
    begin = starts[-1].end()
    end = next((m.start() for m in _ORDER_END.finditer(masked, begin) if depths[m.start()] == 0), len(sql))
    return sql[begin:end].strip().rstrip(";").strip()


def order_keys(items: str) -> list[str | int] | None:
    """What each ORDER BY item names: a column (unquoted names folded to lower case, as PostgreSQL
    does) or a 1-based output position; None when one is an expression (then ties cannot be told)."""
    masked = mask(items)
    depths = _depths(masked)
    cuts = [i for i, c in enumerate(masked) if c == "," and depths[i] == 0]
    keys: list[str | int] = []
    for begin, end in zip([0, *(c + 1 for c in cuts)], [*cuts, len(items)], strict=True):
        item = items[begin:end].strip()
        while (suffix := _ITEM_SUFFIX.search(item)) is not None:
            item = item[:suffix.start()].strip()
        if item.isdigit():
            keys.append(int(item))
        elif (column := _COLUMN.match(item)) is not None:
            keys.append(column.group(1) if column.group(1) is not None else column.group(2).lower())
        else:
            return None
    return keys
