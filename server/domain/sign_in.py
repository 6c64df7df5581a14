"""When a sign-in attempt may go ahead. Guessing is limited three ways over a sliding window: per
pair (person, address) first, so a stranger's guesses lock the stranger out, not the person; per
person across all addresses, which then holds only for addresses the person has never signed in
from, so guesses spread over many machines cannot lock them out of the places they work from; and
per address across all names, against one machine trying many accounts. Attempts still in progress
count as failures, so guesses sent at the same time cannot all slip past the count."""

from __future__ import annotations

import datetime as dt

import msgspec

WINDOW = dt.timedelta(minutes=15)
PER_PAIR = 5  # wrong passwords from one address for one person
PER_PERSON = 20  # for one person from all addresses: ~80 guesses an hour at most from new places
PER_ADDRESS = 20  # from one address for all names


class Recent(msgspec.Struct, frozen=True):
    """Failed (or still running) attempts within WINDOW, and whether this address is one the person
    signed in from before."""

    pair: int
    person: int
    address: int
    known_address: bool


def refused(recent: Recent) -> bool:
    if recent.pair >= PER_PAIR:
        return True
    if recent.known_address:
        return False
    return recent.person >= PER_PERSON or recent.address >= PER_ADDRESS


def locked_for_new_addresses(person_failures: int) -> bool:
    return person_failures >= PER_PERSON
