"""Messages per issued letter under the message policy: a month of letters driven through
`domain.message_policy.route()` (the rule the outbox worker applies), counting messages per channel.

Prints SMS per issued letter for the stated assumptions (override them with the flags). Pure: no database.
bench/cost.py prices the whole platform; this script shows how the SMS figure moves with each assumption.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chalicelib.domain.message_policy import citizen_reach, route  # noqa: E402

LINK_EVENTS = ("issued", "needs_revision")  # their SMS carries a sign-in link (services/signin_links.py)


def month(letters: int, email: float, push: float, session: float, remember: float,
          revision: float, rejected: float, seed: int = 7) -> tuple[Counter[str], int]:
    """Channels used for `letters` requests; returns (messages per channel, letters issued)."""
    rng = random.Random(seed)
    sent: Counter[str] = Counter()
    issued = 0
    for _ in range(letters):
        reach = citizen_reach(phone=True, email=rng.random() < email, push=rng.random() < push,
                              session=rng.random() < session)
        # Logging in to submit: a citizen still logged in on their device (a refresh session of an earlier
        # visit, 30 days) needs no code. Logging in again to download the letter: free for whoever kept the
        # session this time ("remember", the portal's default), one more code for the others.
        codes = 0 if reach.session else 1
        # The return visit needs no SMS code either when the status SMS carried its one-time sign-in link, or
        # when a confirmed e-mail takes the code (services/signin_links.py, services/auth.request_otp).
        returns_without_session = rng.random() >= remember and not reach.session
        sent.update({"sms": codes} if codes else {})
        linked = False
        events = ["request_received"]
        if rng.random() < revision:
            events.append("needs_revision")
        if rng.random() < rejected:
            events.append("rejected")
        else:
            events += ["approved", "issued"]
            issued += 1
        for event in events:
            channels = route(event, reach)
            sent.update(channels)
            linked = linked or ("sms" in channels and event in LINK_EVENTS)
        if returns_without_session and not linked:
            sent.update({"email" if reach.email else "sms": 1})
    return sent, issued


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--letters", type=int, default=10_000, help="requests a month (Sinjai: 10 000)")
    p.add_argument("--email", type=float, default=0.15, help="share of citizens who gave an e-mail")
    p.add_argument("--push", type=float, default=0.30, help="share whose installed portal subscribed to push")
    p.add_argument("--session", type=float, default=0.30,
                   help="share of requests from a citizen still logged in on their device (30-day refresh)")
    p.add_argument("--remember", type=float, default=0.90,
                   help="share who stay logged in after the login (a shared device opts out)")
    p.add_argument("--revision", type=float, default=0.10, help="share of requests sent back for revision")
    p.add_argument("--rejected", type=float, default=0.05, help="share of requests rejected")
    a = p.parse_args()
    sent, issued = month(a.letters, a.email, a.push, a.session, a.remember, a.revision, a.rejected)
    print(f"assumptions: {a.letters} requests, e-mail {a.email:.0%}, push {a.push:.0%}, session {a.session:.0%}, "
          f"remember {a.remember:.0%}, revision {a.revision:.0%}, rejected {a.rejected:.0%}")
    print("messages: " + ", ".join(f"{c} {n}" for c, n in sorted(sent.items())))
    print(f"SMS per issued letter: {sent['sms'] / issued:.2f} (before the policy: 4.00)")
    print("SMS per issued letter by push share (rows) and logged-in returning share (columns):")
    sessions = (0.0, 0.3, 0.5, 0.7)
    print("  push\\session " + " ".join(f"{x:>5.0%}" for x in sessions))
    for push in (0.0, 0.3, 0.5, 0.7):
        row = []
        for sess in sessions:
            s, i = month(a.letters, a.email, push, sess, a.remember, a.revision, a.rejected)
            row.append(f"{s['sms'] / i:5.2f}")
        print(f"  {push:>11.0%} " + " ".join(row))
    s, i = month(a.letters, a.email, a.push, 0.0, 0.0, a.revision, a.rejected)
    print(f"  without refresh sessions at all (a code for every login): {s['sms'] / i:.2f}")


if __name__ == "__main__":
    main()
