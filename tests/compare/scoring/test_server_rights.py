"""The user's own server (`sql_url`): a role that may do more than read is refused before any query
of the answers runs (unless sql_allow_superuser), and a server that cannot be reached fails the
scoring instead of completing with nothing scored. The session's private server stands in for
the user's PostgreSQL, with roles made here."""
from __future__ import annotations

import psycopg
import pytest

from compare.scoring import ScorerSpec, ScoringError, ScoringRow, score_answers
from compare.scoring.postgres import READER, SUPERUSER
from compare.scoring.server_rights import check_server, privileges

SLOT = "SELECT slot_name FROM pg_create_physical_replication_slot('ftadvisor_test_slot')"
ROLES = {  # role -> (how it is made, what the refusal names)
    "test_replicator": ("CREATE ROLE test_replicator LOGIN REPLICATION", "replication"),
    "test_file_reader": ("CREATE ROLE test_file_reader LOGIN; GRANT pg_read_server_files TO test_file_reader",
                         "member of pg_read_server_files"),
    "test_signaller": ("CREATE ROLE test_signaller LOGIN; GRANT pg_signal_backend TO test_signaller",
                       "member of pg_signal_backend"),
    "test_reloader": ("CREATE ROLE test_reloader LOGIN; GRANT EXECUTE ON FUNCTION pg_reload_conf() TO test_reloader",
                      "EXECUTE on pg_reload_conf"),
    SUPERUSER: (None, "superuser"),
}


@pytest.fixture(scope="module")
def roles(pg):
    """The roles, once; statements run in database toy (function privileges are per database)."""
    with psycopg.connect(pg.url("toy"), autocommit=True) as conn:
        for role, (made, _) in [*ROLES.items(), ("test_plain", ("CREATE ROLE test_plain LOGIN", ""))]:
            if made and not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                for statement in made.split("; "):
                    conn.execute(statement)
                conn.execute(f"GRANT CONNECT ON DATABASE toy TO {role}")
    return pg


def _score(pg, user: str, answer: str, **options):
    spec = ScorerSpec(names="sql-exec", sql_url=pg.url_template(user).replace("{db}", "toy"), sql_timeout_s=5,
                      **options)
    return score_answers(spec, [ScoringRow(question="q", answer=answer, reference="SELECT 1", row={})])


def _slots(pg) -> int:
    with psycopg.connect(pg.url("postgres")) as conn:
        return conn.execute("SELECT count(*) FROM pg_replication_slots").fetchone()[0]


@pytest.mark.parametrize("role", list(ROLES))
def test_a_role_that_may_do_more_than_read_is_refused_before_any_query(roles, role):
    # As a superuser or a replication role, this single SELECT made a slot that outlived the rollback.
    with pytest.raises(ScoringError) as info:
        _score(roles, role, SLOT)
    assert str(info.value).startswith(f"sql_url: role '{role}' may do more than read ({ROLES[role][1]}")
    assert "--sql-allow-superuser" in str(info.value)
    assert _slots(roles) == 0


def test_sql_allow_superuser_accepts_the_role_and_queries_still_cannot_write(roles):
    result = _score(roles, SUPERUSER, "SELECT nextval('ticket')", sql_allow_superuser=True)
    verdict = result.per_answer[0]["sql-exec"]
    assert (verdict.score, verdict.status) == (0.0, "error") and "read-only transaction" in verdict.error


@pytest.mark.parametrize("role", [READER, "test_plain"])
def test_a_role_that_can_only_read_runs_the_queries(roles, role):
    with psycopg.connect(roles.url_template(role).replace("{db}", "toy")) as conn:
        assert privileges(conn) == (role, [])
    assert _score(roles, role, "SELECT 1").per_answer[0]["sql-exec"].score == 1.0


def test_an_unreachable_server_fails_the_scoring_instead_of_completing(tmp_path):
    spec = ScorerSpec(names="sql-exec", sql_url=f"postgresql://reader@/{{db}}?host={tmp_path}", sql_db_field="db")
    rows = [ScoringRow(question="q", answer="SELECT 1", reference="SELECT 1", row={"db": "toy"})]
    with pytest.raises(ScoringError, match=r"^sql_url: cannot connect to database 'toy': .*No such file"):
        score_answers(spec, rows)


def test_check_server_answers_in_one_line(roles, tmp_path):
    template = roles.url_template()
    check_server(template, ["nope", "toy"], allow_superuser=False)  # a missing database is only skipped
    with pytest.raises(ScoringError, match=r"^sql_url: none of the databases the rows name exists on the server "
                                           r"\(nope, gone\)$"):
        check_server(template, ["nope", "gone"], allow_superuser=False)
    with pytest.raises(ScoringError, match=r"^sql_url: cannot connect: .*No such file"):
        check_server(f"postgresql://reader@/x?host={tmp_path}", [], allow_superuser=False)
    with pytest.raises(ScoringError, match=r"^sql_url: role 'postgres' may do more than read \(superuser\)"):
        check_server(roles.url_template(SUPERUSER), ["toy"], allow_superuser=False)
    check_server(roles.url_template(SUPERUSER), ["toy"], allow_superuser=True)
