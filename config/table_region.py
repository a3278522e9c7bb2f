"""{% table_region "name" %}<table>…</table>{% end_table_region %}: the one markup for a data
table, in every template that has one.

The table scrolls sideways in its own region, so at 320 px (or 400% zoom) only the table
moves, never the page (WCAG 1.4.10). The region is named and keyboard-focusable, so a
keyboard user can scroll it and a screen reader announces what it holds.
"""

from typing import Any

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token

from config.html import format_html

register = template.Library()


class TableRegionNode(template.Node):
    def __init__(self, name: FilterExpression, nodelist: NodeList) -> None:
        self.name = name
        self.nodelist = nodelist

    def render(self, context: Any) -> str:
        return format_html(
            '<div class="app-table-region" role="region" aria-label="{}" tabindex="0">{}</div>',
            self.name.resolve(context),
            self.nodelist.render(context),
        )


@register.tag
def table_region(parser: Parser, token: Token) -> TableRegionNode:
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError(
            '{% table_region "name" %} takes one argument: what the table holds.'
        )
    nodelist = parser.parse(("end_table_region",))
    parser.delete_first_token()
    return TableRegionNode(parser.compile_filter(bits[1]), nodelist)
