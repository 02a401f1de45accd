"""The demo's planted stories (DESIGN.md section 1), one module per story.

Keys of ``DemoScenario.stories`` and of ``truth.story``, in planting order:

``a_hospital_entrance``   enforcement changes nothing, a joint meeting cuts counts by 60 %
``b_bike_shed``           proactive visits and works: fewer complaints, more proactive records, praise
``c_truck_parking``       trucks along a road stretch, no intervention: a line-shaped hotspot
``d_streetlights``        winter bursts along road stretches, a category-wide campaign
``e_elevator_relapse``    a repair that worked, then 回潮
``f_regression_to_mean``  enforcement after a random peak month, no effect
``g_qr_code``             a new intake channel: more tickets, no change in problems
``h_fumes_shop_row``      a grid station's joint meeting at a shop row, -75 %

Every story plants through a :class:`~minqing.demo.stories.context.StoryContext`
(``plant(ctx) -> (story, interventions)``); :mod:`~minqing.demo.stories.selection`
chooses their places.  All story rates are base rates before genuine repeat
calls, which the scenario adds to ~8 % of all tickets.
"""

from __future__ import annotations

from minqing.demo.stories import (
    bike_shed,
    elevator_relapse,
    fumes_shop_row,
    hospital_entrance,
    qr_code,
    regression_to_mean,
    streetlights,
    truck_parking,
)
from minqing.demo.stories.context import StoryContext

STORIES = (hospital_entrance, bike_shed, truck_parking, streetlights, elevator_relapse, regression_to_mean,
           qr_code, fumes_shop_row)
"""The story modules in planting order: each draws from the shared generators after the one before."""

STORY_KEYS = tuple(story.KEY for story in STORIES)


def plant_stories(ctx: StoryContext) -> tuple[dict, list[dict]]:
    """Plant every story in order; return (stories, interventions).

    Interventions get their ids in order of start date; every story's ground
    truth lists its intervention ids and records.
    """
    stories: dict = {}
    ivs: list[dict] = []
    for module in STORIES:
        story, records = module.plant(ctx)
        stories[module.KEY] = story
        ivs.extend(records)
    ivs.sort(key=lambda r: (r["start_date"], r["key"]))
    ids = {}
    for n, iv in enumerate(ivs, start=1):
        iv["intervention_id"] = n
        ids[iv["key"]] = n
    for story in stories.values():
        story["interventions"] = [ids[k] for k in story["interventions"]]
        story["intervention_records"] = [
            {k: iv[k] for k in ("intervention_id", "name", "type", "start_date", "end_date", "implementation_end")}
            for iv in ivs if iv["intervention_id"] in story["interventions"]
        ]
    return stories, ivs
