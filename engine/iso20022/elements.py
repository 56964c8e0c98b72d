"""Small helpers to read ISO elements of one namespace and to name an element by its path."""

from __future__ import annotations

from lxml import etree


def local_name(element: etree._Element) -> str:
    return element.tag.rpartition("}")[2]


def namespace(element: etree._Element) -> str | None:
    tag = element.tag
    return tag[1:].partition("}")[0] if tag.startswith("{") else None


def child(parent: etree._Element | None, ns: str, *names: str) -> etree._Element | None:
    """The first element at parent/names[0]/names[1]/..., all in namespace ns."""
    element = parent
    for name in names:
        if element is None:
            return None
        element = next(element.iterchildren(f"{{{ns}}}{name}"), None)
    return element


def child_text(parent: etree._Element | None, ns: str, *names: str) -> str | None:
    element = child(parent, ns, *names)
    return None if element is None else element.text


def children(parent: etree._Element, ns: str, name: str) -> list[etree._Element]:
    return list(parent.iterchildren(f"{{{ns}}}{name}"))


def element_path(element: etree._Element) -> str:
    """Local names from the root, with a position where a name repeats: /Document/.../CdtTrfTxInf[2]/IntrBkSttlmAmt."""
    steps = []
    node: etree._Element | None = element
    while node is not None:
        step = local_name(node)
        parent = node.getparent()
        if parent is not None:
            namesakes = [sibling for sibling in parent if sibling.tag == node.tag]
            if len(namesakes) > 1:
                step += f"[{namesakes.index(node) + 1}]"
        steps.append(step)
        node = parent
    return "/" + "/".join(reversed(steps))
