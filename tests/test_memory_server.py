"""A server store (`--store http://HOST:6333`) that fails well. No Qdrant server ships
on the registries here, so the URL path is covered by what qdrant-client itself checks:
its filter and payload-index types, and its errors against real sockets on loopback."""

import http.server
import socket
import threading

import pytest
from typer.testing import CliRunner

from dramatis.cli import app
from dramatis.core.errors import DramatisError
from dramatis.memory.mirror import Where
from dramatis.memory.store import INDEXES, VectorStore, qdrant_filter


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def not_qdrant():
    """An HTTP server on loopback that answers every request with 404."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_error(404)

        do_PUT = do_POST = do_GET  # noqa: N815

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_no_server_is_one_line_naming_the_url():
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(DramatisError) as err:
        VectorStore(url)
    line = str(err.value)
    assert line.startswith(f"memory store {url}: no Qdrant server answers there")
    assert "\n" not in line and "--store PATH" in line


def test_a_server_that_is_not_qdrant_is_one_line(not_qdrant):
    with pytest.raises(DramatisError, match=r"answers, but not as Qdrant does \(HTTP 404\)"):
        VectorStore(not_qdrant)


@pytest.mark.parametrize("command", [["memory", "index", "hamlet"],
                                     ["memory", "show", "t", "--character", "Hamlet"]])  # fmt: skip
def test_memory_commands_with_a_dead_url_say_so_in_one_line(home, command):
    url = f"http://127.0.0.1:{closed_port()}"
    if command[1] == "show":  # show reads the scene's graph first: give it one
        from dramatis.core.settings import Settings
        from dramatis.memory.graph import MemoryGraph
        from dramatis.memory.settings import MemorySettings

        graph = MemoryGraph()
        graph.g.graph["roles"] = {"Hamlet": ["hamlet", "1.2"]}
        graph.save(MemorySettings.of(Settings.load().ensure()).graph_path("t"))
    out = CliRunner().invoke(app, [*command, "--store", url])
    assert out.exit_code != 0 and "Traceback" not in out.output
    assert out.output.strip().count("\n") == 0 and url in out.output, out.output


def test_the_server_path_builds_qdrant_s_own_types():
    from qdrant_client import models

    flt = qdrant_filter(
        Where(
            equals=(("play", "hamlet"),),
            contains=(("on_stage", "Horatio"),),
            below=(("clock", 301),),
        )  # fmt: skip
    )
    again = models.Filter.model_validate(flt.model_dump())  # qdrant's own validation
    keys = [c.key for c in again.must]
    assert keys == ["play", "on_stage", "clock"] and again.must[2].range.lt == 301
    assert qdrant_filter(Where()) is None
    kinds = {k.value for k in models.PayloadSchemaType}
    assert {kind for fields in INDEXES.values() for kind in fields.values()} <= kinds
