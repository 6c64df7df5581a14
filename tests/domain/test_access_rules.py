"""The access rules as pure functions (domain/access.py), read as sentences about the personas: ani
(staff), budi (coordinator of Tenggarong, 64.02.06), citra (enumerator in Tenggarong) and dewi
(enumerator in Samboja, 64.02.13). Storage loaders and list queries apply exactly these."""

from __future__ import annotations

from server.domain.access import Principal, assigned, may_revise, owns, sees_record

ANI = Principal(id=1, username="ani", display_name="Ani", role="staff")
BUDI = Principal(id=2, username="budi", display_name="Budi", role="coordinator", areas=("64.02.06",))
CITRA = Principal(id=3, username="citra", display_name="Citra", role="enumerator", areas=("64.02.06",))
DEWI = Principal(id=4, username="dewi", display_name="Dewi", role="enumerator", areas=("64.02.13",))
TENGGARONG_DESA, SAMBOJA_DESA = "64.02.06.1001", "64.02.13.2005"


def test_an_enumerator_sees_the_records_she_sent_and_no_one_elses() -> None:
    assert sees_record(CITRA, CITRA.id, TENGGARONG_DESA)
    assert sees_record(CITRA, CITRA.id, SAMBOJA_DESA)  # her own, even outside her areas now
    assert not sees_record(CITRA, DEWI.id, TENGGARONG_DESA)  # a colleague's, even in her own area
    assert not sees_record(CITRA, None, TENGGARONG_DESA)  # a record without a sender (imported)


def test_a_coordinator_sees_the_records_of_his_areas_whoever_sent_them() -> None:
    assert sees_record(BUDI, CITRA.id, TENGGARONG_DESA) and sees_record(BUDI, DEWI.id, TENGGARONG_DESA)
    assert sees_record(BUDI, None, "64.02.06")
    assert not sees_record(BUDI, DEWI.id, SAMBOJA_DESA)
    assert not sees_record(BUDI, BUDI.id, SAMBOJA_DESA)  # the area decides, not who sent it
    assert not sees_record(BUDI, CITRA.id, "64.02.060")  # a prefix of the text is not a containing area


def test_staff_see_every_record() -> None:
    assert sees_record(ANI, DEWI.id, SAMBOJA_DESA) and sees_record(ANI, None, TENGGARONG_DESA)


def test_only_the_sender_and_staff_revise_a_record() -> None:
    assert owns(CITRA, CITRA.id) and not owns(CITRA, DEWI.id) and not owns(CITRA, None)
    assert may_revise(CITRA, CITRA.id) and may_revise(ANI, CITRA.id)
    assert not may_revise(DEWI, CITRA.id)
    assert not may_revise(BUDI, CITRA.id)  # he reviews the record; a revision is the sender's


def test_a_form_assigned_to_areas_is_open_to_whoever_works_there() -> None:
    assert assigned(CITRA, (), ())  # no roles and no areas: everyone
    assert assigned(ANI, ("enumerator",), (SAMBOJA_DESA,))  # editors see every form they publish
    assert not assigned(BUDI, ("enumerator",), ())  # assigned to a role he does not have
    assert assigned(CITRA, (), (TENGGARONG_DESA,))  # a desa inside her kecamatan
    assert assigned(Principal(id=5, username="eko", display_name="Eko", role="enumerator",
                              areas=(TENGGARONG_DESA,)), (), ("64.02.06",))  # his desa inside the kecamatan
    assert not assigned(DEWI, (), ("64.02.06",))
    assert not assigned(DEWI, ("enumerator",), (TENGGARONG_DESA,))  # the role fits, the area does not
