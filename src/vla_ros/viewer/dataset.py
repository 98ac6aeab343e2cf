"""``vla-ros view DATASET``: lerobot's own dataset visualisation (``lerobot-dataset-viz``) in web mode.

lerobot 0.4.4 ``scripts/lerobot_dataset_viz.py:visualize_dataset`` with ``mode="distant"`` serves the
episode over gRPC and a web viewer (``rr.serve_grpc`` + ``rr.serve_web_viewer``) and then blocks until
Ctrl-C; nothing is downloaded for a local dataset.
"""

from __future__ import annotations

from pathlib import Path

from vla_ros.viewer.errors import ViewerError

__all__ = ["is_dataset", "view_dataset"]


def is_dataset(path: str | Path) -> bool:
    """Whether ``path`` is a LeRobot dataset directory (it holds ``meta/info.json``)."""
    return (Path(path) / "meta" / "info.json").is_file()


def view_dataset(root: str | Path, episode: int, web_port: int, grpc_port: int) -> None:
    """Serve episode ``episode`` of the local dataset at ``root`` until Ctrl-C.

    Raises:
        ViewerError: not a dataset, or no such episode (naming the episodes it has).
    """
    from lerobot.datasets.lerobot_dataset import LeRobotDataset, LeRobotDatasetMetadata
    from lerobot.scripts.lerobot_dataset_viz import visualize_dataset

    from vla_ros.convert.writer import safe_video_backend

    root = Path(root).resolve()
    if not is_dataset(root):
        raise ViewerError(f"{root} is not a LeRobot dataset (no meta/info.json)")
    repo_id = f"local/{root.name}"
    total = LeRobotDatasetMetadata(repo_id, root=root).total_episodes
    if not 0 <= episode < total:
        raise ViewerError(f"dataset {root} has episodes 0..{total - 1}, not --episode {episode}")
    dataset = LeRobotDataset(repo_id, root=root, episodes=[episode], video_backend=safe_video_backend())
    visualize_dataset(dataset, episode, mode="distant", web_port=web_port, grpc_port=grpc_port)
