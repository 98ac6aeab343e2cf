"""Where the viewer's data goes: served to a web viewer (``rr.serve_grpc`` + ``rr.serve_web_viewer``),
saved to an ``.rrd`` file (``rr.save``), or both (two recording streams with one recording id).

:func:`rerun_missing` is the one check that rerun-sdk is installed; the graph adds no viewer node
without it, and the launchers print its message.
"""

from __future__ import annotations

import importlib.util
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from vla_ros.viewer.errors import RerunMissingError, ViewerError

__all__ = ["APP_ID", "ViewerSession", "grpc_url", "open_session", "require_rerun", "rerun_missing",
           "viewer_url"]

APP_ID = "vla_ros"


def rerun_missing() -> str | None:
    """None when rerun-sdk can be imported, else what to do about it."""
    if importlib.util.find_spec("rerun") is not None:
        return None
    return ("viewer:=rerun needs rerun-sdk, which is not installed here: `pip install rerun-sdk` "
            "(lerobot installs it); starting without the viewer")


def require_rerun() -> None:
    """Raises RerunMissingError (with :func:`rerun_missing`'s message) when rerun-sdk is absent."""
    message = rerun_missing()
    if message:
        raise RerunMissingError(message)


def grpc_url(grpc_port: int, host: str = "127.0.0.1") -> str:
    """The gRPC proxy URL of a served recording (``rerun rerun+http://HOST:PORT/proxy`` opens it natively)."""
    return f"rerun+http://{host}:{grpc_port}/proxy"


def viewer_url(web_port: int, grpc_port: int, host: str = "127.0.0.1") -> str:
    """The URL of the served web viewer, connected to the served recording."""
    return f"http://{host}:{web_port}/?url={quote(grpc_url(grpc_port, host), safe=':/')}"


@dataclass
class ViewerSession:
    """Open recording streams: log to every one of ``streams``; ``url`` is empty when not serving."""

    streams: list[Any]
    url: str = ""
    save_path: Path | None = None
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        """Flush and close every stream (the ``.rrd`` file is complete afterwards)."""
        if self._closed:
            return
        self._closed = True
        for stream in self.streams:
            stream.flush(timeout_sec=2.0)
            stream.disconnect()


def open_session(blueprint: Any, *, serve: bool, web_port: int = 9090, grpc_port: int = 9876,
                 save_path: str | Path = "", memory_limit: str = "512MB",
                 recording_name: str = "", newest_first: bool = False) -> ViewerSession:
    """Open the streams the viewer logs to.

    Args:
        blueprint: the layout (:func:`vla_ros.viewer.layout.blueprint`), sent to every sink.
        serve: serve a web viewer on ``web_port`` fed over gRPC on ``grpc_port``.
        save_path: also (or only) write everything to this ``.rrd`` file ("" = no file).
        memory_limit: how much the gRPC server keeps for late viewers (older data is dropped first).
        recording_name: shown in the viewer's recording list.
        newest_first: a viewer that connects late gets the newest data first (a live graph: the present
            shows at once, the history fills in behind it).

    Raises:
        RerunMissingError: rerun-sdk is not installed.
        ViewerError: neither serving nor saving, the file's directory does not exist, or a port is taken.
    """
    require_rerun()
    import rerun as rr

    if not serve and not save_path:
        raise ViewerError("the viewer has nowhere to send data: serve it, or give a file to save to")
    recording_id = str(uuid.uuid4())
    streams: list[Any] = []
    url = ""
    path = Path(save_path).expanduser().resolve() if save_path else None
    try:
        if serve:
            stream = rr.RecordingStream(APP_ID, recording_id=recording_id)
            uri = stream.serve_grpc(grpc_port=grpc_port, server_memory_limit=memory_limit,
                                    newest_first=newest_first)
            rr.serve_web_viewer(web_port=web_port, open_browser=False, connect_to=uri)
            streams.append(stream)
            url = viewer_url(web_port, grpc_port)
        if path is not None:
            if not path.parent.is_dir():
                raise ViewerError(f"cannot save the viewer's recording to {path}: no directory {path.parent}")
            stream = rr.RecordingStream(APP_ID, recording_id=recording_id)
            stream.save(path)
            streams.append(stream)
        for stream in streams:
            # Only once every sink is set: data made in Python before that (the blueprint, the name: arrow
            # arrays over NumPy buffers) is released by rerun's sender thread, which needs the GIL that
            # set_sink holds while it waits for that thread (a deadlock seen with rerun-sdk 0.26.2).
            stream.send_blueprint(blueprint)
            if recording_name:
                stream.send_recording_name(recording_name)
    except (RuntimeError, OSError, ValueError) as err:
        for stream in streams:
            stream.disconnect()
        raise ViewerError(f"cannot start the rerun viewer (web port {web_port}, gRPC port {grpc_port}, "
                          f"file {path}): {err}") from err
    return ViewerSession(streams, url, path)

