"""``vla-ros view DATASET|BAG [--episode N] [--port P] [--save FILE.rrd]``: check a recording before training.

A LeRobot dataset directory (``meta/info.json``) is shown by lerobot's own visualisation; anything else
is read as a rosbag and replayed through the viewer's logging core. Both serve a web viewer and print
its URL, then wait for Ctrl-C (a bag with ``--save`` and without ``--serve`` writes the file and exits).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from vla_ros.viewer.session import require_rerun, viewer_url

__all__ = ["view_main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vla-ros view", description=__doc__.split("\n\n")[1])
    p.add_argument("path", metavar="DATASET|BAG", help="a LeRobot dataset directory or a rosbag")
    p.add_argument("--episode", type=int, default=0, help="dataset episode to show (default 0)")
    p.add_argument("--port", type=int, default=9090, help="web viewer port; gRPC uses the next one")
    p.add_argument("--save", default="", help="bag: also write the viewer's data to this .rrd file")
    p.add_argument("--no-serve", action="store_true", help="bag: only --save, serve nothing, exit")
    return p


def view_main(argv: Sequence[str]) -> int:
    """Entry point of ``vla-ros view``."""
    args = _parser().parse_args(list(argv))
    require_rerun()
    from vla_ros.viewer.dataset import is_dataset, view_dataset

    url = viewer_url(args.port, args.port + 1)
    if is_dataset(args.path):
        print(f"vla-ros view: dataset {args.path} episode {args.episode} at {url} (Ctrl-C to stop)",
              flush=True)
        view_dataset(args.path, args.episode, args.port, args.port + 1)
        return 0
    return _view_bag(args, url)


def _view_bag(args: argparse.Namespace, url: str) -> int:
    from vla_ros.viewer.bag import bag_feeds, replay_bag
    from vla_ros.viewer.layout import blueprint
    from vla_ros.viewer.logger import ViewerLogger
    from vla_ros.viewer.session import open_session

    feeds = bag_feeds(args.path)
    session = open_session(blueprint(feeds), serve=not args.no_serve, web_port=args.port,
                           grpc_port=args.port + 1, save_path=args.save, recording_name=str(args.path))
    try:
        if session.url:
            print(f"vla-ros view: bag {args.path} at {url} (Ctrl-C to stop)", flush=True)
        logger = ViewerLogger(session.streams)
        logger.log_static(feeds)
        counts = replay_bag(args.path, logger)
        print("vla-ros view: logged " + ", ".join(f"{t} {n}" for t, n in sorted(counts.items())), flush=True)
        while session.url:
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        session.close()
    return 0
