"""The interest taxonomy: IAB Content Taxonomy 3.1 nodes with GDPR Art. 9 marks.

The interest model predicts one of a fixed set of labels (the 20 Newsgroups groups); each
label maps onto a node of a subset of the IAB Tech Lab Content Taxonomy 3.1 (CC BY 3.0).
Nodes whose subject is a GDPR Art. 9 special category carry a :class:`SpecialCategory`
mark curated by this project. A mark covers the whole subtree: like Chrome Topics'
blocklist, a descendant of a marked node is special even when it carries no mark itself.

The packaged file is ``edge_client/assets/taxonomy.json``; its layout and the list of marks
with their reasons are documented in ``edge_client/assets/TAXONOMY_NOTICE.md``.
"""

from __future__ import annotations

from edge_client.taxonomy.loader import load_taxonomy
from edge_client.taxonomy.model import InterestNode, NodeSource, SpecialCategory, Taxonomy

__all__ = ["InterestNode", "NodeSource", "SpecialCategory", "Taxonomy", "load_taxonomy"]
