"""Every action a request's audit history records is shown to staff and citizens in Bahasa Indonesia
(web/assets/lib.js ACTIONS), never as its code: the history views fall back to the raw action name."""

from __future__ import annotations

import re
from pathlib import Path

from chalicelib.domain.escalation import LEVEL_ACTIONS
from chalicelib.domain.requests import ISSUED, TRANSITIONS

LIB = Path(__file__).resolve().parents[2] / "web" / "assets" / "lib.js"
# Written outside the state machine: the submission, a staff member opening an attachment or downloading the letter
# (services/attachments.py, services/letters.py), a revocation
OTHER_ACTIONS = {"submit", "view_attachment", "download_letter", "revoke_letter"}


def test_every_request_history_action_has_an_indonesian_label() -> None:
    block = re.search(r"export const ACTIONS = \{(.*?)\};", LIB.read_text(), re.S)
    assert block is not None
    labelled = set(re.findall(r"^\s*(\w+):", block.group(1), re.M))
    written = set(TRANSITIONS) | {ISSUED.action} | set(LEVEL_ACTIONS.values()) | OTHER_ACTIONS
    assert written - labelled == set()
