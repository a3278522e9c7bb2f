"""load_ladders: the ladders a process holds are served only while no ladder has changed."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalations import rules
from escalations.loading import load_ladders, one_ladder_read, roles_by_pk
from escalations.selectors import raisable_policy_pks
from policies.models import Stage
from tests.concurrency import start
from tests.markers import postgres_only
from tests.policies.factories import PolicyFactory, RoleFactory, StageFactory
from tests.staff.factories import StaffMemberFactory


def _ladder(policy_pk: int) -> list[Stage]:
    return rules.ladder(load_ladders([policy_pk])[policy_pk])


@pytest.fixture
def policy(db):
    policy = PolicyFactory()
    StageFactory(policy=policy, order=0, name="Informal")
    StageFactory(policy=policy, order=1, name="Stage 1", response_days=5)
    return policy


def test_a_second_read_with_no_change_between_asks_only_the_revision(
    policy, django_assert_num_queries
):
    load_ladders([policy.pk])

    with django_assert_num_queries(1):
        ladder = _ladder(policy.pk)
        roles = [list(stage.raiser_roles.all()) for stage in ladder]

    assert [s.name for s in ladder] == ["Informal", "Stage 1"]
    assert roles == [[], []]


def test_a_saved_change_is_read_at_once(policy):
    _ladder(policy.pk)
    stage = policy.stages.get(order=1)
    stage.response_days = 10
    stage.save()

    assert _ladder(policy.pk)[1].response_days == 10


def test_a_change_made_in_hand_written_sql_is_read_at_once(policy):
    _ladder(policy.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE policies_stage SET name = 'Renamed' WHERE policy_id = %s", [policy.pk]
        )

    assert [s.name for s in _ladder(policy.pk)] == ["Renamed", "Renamed"]


def test_a_stage_s_new_raiser_role_is_read_at_once(policy):
    _ladder(policy.pk)
    role = RoleFactory(name="Head of Quality Assurance")
    policy.stages.get(order=1).raiser_roles.add(role)

    assert list(_ladder(policy.pk)[1].raiser_roles.all()) == [role]


def test_a_ladder_read_in_a_rolled_back_change_is_not_served_afterwards(policy):
    with pytest.raises(RuntimeError), transaction.atomic():
        Stage.objects.filter(policy=policy).first().delete()
        assert len(_ladder(policy.pk)) == 1  # read, and held, inside the change
        raise RuntimeError

    assert [s.name for s in _ladder(policy.pk)] == ["Informal", "Stage 1"]
    # A later, different change: not mistaken for the rolled-back one.
    stage = policy.stages.get(order=1)
    stage.name = "Stage one"
    stage.save()
    assert [s.name for s in _ladder(policy.pk)] == ["Informal", "Stage one"]


def test_each_caller_gets_copies_of_its_own(policy):
    first = load_ladders([policy.pk])[policy.pk]
    first.name = "Changed by one request"
    rules.ladder(first)[1].name = "Changed too"
    first.__dict__["_prefetched_objects_cache"]["stages"]._result_cache.pop()

    again = load_ladders([policy.pk])[policy.pk]

    assert again is not first
    assert again.name == policy.name
    assert [s.name for s in rules.ladder(again)] == ["Informal", "Stage 1"]
    # Each stage's policy is the copy handed out with it.
    assert all(stage.policy is again for stage in rules.ladder(again))


def test_an_authority_s_ladders_are_its_policies_with_stages(policy):
    StageFactory(order=1)  # another authority's
    PolicyFactory(authority=policy.authority)  # no stage yet

    ladders = load_ladders(authority=policy.authority)

    assert list(ladders) == [policy.pk]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_change_another_connection_commits_is_read_at_once():
    policy = PolicyFactory()
    stage = StageFactory(policy=policy, order=1, name="Stage 1")
    assert [s.name for s in _ladder(policy.pk)] == ["Stage 1"]

    def rename() -> None:
        elsewhere = Stage.objects.get(pk=stage.pk)
        elsewhere.name = "Renamed elsewhere"
        elsewhere.save()

    assert start(rename)() is None

    assert [s.name for s in _ladder(policy.pk)] == ["Renamed elsewhere"]


def test_a_role_newly_allowed_to_raise_under_a_policy_may_raise_at_once(ladders, staff_of):
    chair = staff_of("rutland", "cp-chair")
    team_manager = staff_of("rutland", "team-manager")
    policy = ladders["rutland"]
    assert raisable_policy_pks(chair) == [policy.pk]
    assert raisable_policy_pks(team_manager) == []

    policy.raisers.add(team_manager.role)

    assert raisable_policy_pks(team_manager) == [policy.pk]


def _revision_reads(queries: CaptureQueriesContext) -> int:
    return sum("policies_ladderrevision" in q["sql"] for q in queries.captured_queries)


def test_within_one_read_the_revision_is_read_once_however_often_the_ladders_are_asked(policy):
    staff = StaffMemberFactory(authority=policy.authority)
    load_ladders([policy.pk])  # held: the factories changed them

    with CaptureQueriesContext(connection) as queries, one_ladder_read():
        load_ladders([policy.pk])
        load_ladders(authority=policy.authority)
        raisable_policy_pks(staff)

    assert _revision_reads(queries) == 1


def test_a_page_read_by_get_reads_the_revision_once(raise_concern, staff_of, client):
    escalation = raise_concern("rutland")
    chair = escalation.raised_by
    client.force_login(chair.user)
    child = escalation.children.get()

    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("children:file", args=[child.pk])).status_code == 200

    assert _revision_reads(queries) == 1


def test_a_row_newer_than_the_request_s_first_look_is_looked_up_again(policy):
    with one_ladder_read():
        load_ladders([policy.pk])
        # Committed by someone else since the request first looked (here: made after it).
        newer = StageFactory(order=1).policy
        role = RoleFactory()

        assert list(load_ladders([newer.pk])) == [newer.pk]
        assert list(roles_by_pk([role.pk])) == [role.pk]
