"""The FastAGI menu dialogue: bounded attempts, fallbacks, never a bare hang-up."""

from __future__ import annotations

from smart_ivr.dialogue import Collect, Dialogue, Route, RouteReason, max_digits_for
from smart_ivr.menu import Destinations, Menu, MenuEntry

KNOWN = {"201", "202", "203", "100", "999", "0"}
MENU = Menu(
    number="+79161234567",
    new_client=False,
    entries=(
        MenuEntry("1", "anna", "Анна", "201", 3.0, "r"),
        MenuEntry("2", "boris", "Борис", "202", 1.0, "r"),
    ),
    fragments=("a", "b"),
    destinations=Destinations(default="100", emergency="999"),
)


async def known(destination: str) -> bool:
    return destination in KNOWN


def dialogue(
    menu: Menu = MENU, prompt: str | None = "/var/tb/p1", **kw: object
) -> Dialogue:
    options: dict[str, object] = {
        "attempts": 3,
        "timeout_ms": 3000,
        "max_digits": 3,
        "last_resort": "0",
        "resolves": known,
    }
    options.update(kw)
    return Dialogue(menu, prompt, **options)  # type: ignore[arg-type]


async def test_a_menu_digit_routes_to_that_employee() -> None:
    d = dialogue()
    first = await d.start()
    assert first == Collect("/var/tb/p1", 3000, 3, 1)
    assert await d.on_keys("2") == Route("202", RouteReason.CHOSEN)


async def test_a_full_extension_that_exists_is_accepted() -> None:
    d = dialogue()
    await d.start()
    assert await d.on_keys("203") == Route("203", RouteReason.CHOSEN)


async def test_silence_repeats_then_goes_to_the_default() -> None:
    d = dialogue()
    actions = [
        await d.start(),
        await d.on_keys(""),
        await d.on_keys(""),
        await d.on_keys(""),
    ]
    assert [a.attempt for a in actions[:3] if isinstance(a, Collect)] == [1, 2, 3]
    assert actions[3] == Route("100", RouteReason.NO_CHOICE)


async def test_invalid_keys_use_up_attempts_too() -> None:
    d = dialogue()
    await d.start()
    assert isinstance(await d.on_keys("7"), Collect)
    assert isinstance(await d.on_keys("555"), Collect)
    assert await d.on_keys("9") == Route("100", RouteReason.NO_CHOICE)


async def test_no_prompt_means_emergency_at_once() -> None:
    assert (await dialogue(prompt=None).start()) == Route("999", RouteReason.EMERGENCY)


async def test_an_unresolvable_destination_goes_to_the_last_resort() -> None:
    broken = Menu(
        MENU.number,
        False,
        MENU.entries,
        MENU.fragments,
        Destinations(default="404", emergency="405"),
    )
    d = dialogue(menu=broken)
    await d.start()
    await d.on_keys("")
    await d.on_keys("")
    assert await d.on_keys("") == Route("0", RouteReason.LAST_RESORT)
    assert (await dialogue(menu=broken, prompt=None).start()) == Route(
        "0", RouteReason.LAST_RESORT
    )


def test_max_digits_covers_the_longest_offered_extension() -> None:
    long_menu = Menu(
        MENU.number,
        False,
        (MenuEntry("1", "x", "X", "20145", 1, "r"),),
        ("a",),
        MENU.destinations,
    )
    assert max_digits_for(long_menu) == 5
    assert max_digits_for(MENU) == 3
