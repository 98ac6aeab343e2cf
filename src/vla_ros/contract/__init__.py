"""The facts a checkpoint was trained on, from any source, read and written in one place.

:class:`DeploymentContract` (``model``) is what deployment must match; :func:`read_contract`
(``reader``) builds it for any LeRobot SmolVLA checkpoint from ``vla_ros_contract.json``,
``lerobot-train``'s ``train_config.json`` and the training dataset's metadata (``dataset``), each
fact with its source; ``signature`` keeps what each training camera saw and tells live cameras apart
by content; ``cli`` is ``vla-ros contract``. The policy node and the safety supervisor both read
checkpoints through :func:`read_contract`.

Core package: no ROS.
"""

from vla_ros.contract.dataset import episode_first_states, start_state_stats
from vla_ros.contract.model import CONTRACT_FILE, FACTS, DeploymentContract
from vla_ros.contract.reader import read_contract

__all__ = ["CONTRACT_FILE", "FACTS", "DeploymentContract", "episode_first_states", "read_contract",
           "start_state_stats"]
