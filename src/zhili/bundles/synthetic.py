"""A synthetic catalogue of chain-shaped bundles of any size, for query pins and the bench."""

from __future__ import annotations


def synthetic_doc(sizes=(1, 15), prefix: str = "syn") -> dict:
    """Bundles `<prefix>-<n>` of n matters; matter i needs matter i-1 (and i-2): a long graph."""
    elements = [{"code": f"{prefix}-e{i}", "label": f"字段{i}", "label_en": f"Field {i}", "kind": "text",
                 "max_length": 20} for i in range(max(sizes) + 2)]
    elements.append({"code": f"{prefix}-name", "label": "姓名", "label_en": "Name", "kind": "text",
                     "max_length": 64, "source": "person.name"})
    materials = [{"code": f"{prefix}-doc{i}", "name": f"材料{i}", "name_en": f"Document {i}"}
                 for i in range(max(sizes) + 1)]
    matters, bundles = [], []
    for n in sizes:
        codes = [f"{prefix}-{n}-m{i}" for i in range(n)]
        for i, code in enumerate(codes):
            matters.append({
                "code": code, "name": f"事项{i}", "name_en": f"Matter {i}", "department": "health",
                "legal_basis": "synthetic", "elements": [f"{prefix}-e{i}", f"{prefix}-e{i + 1}", f"{prefix}-name"],
                "materials": [f"{prefix}-doc{i}", f"{prefix}-doc{i + 1}"][: 1 + (i % 2)],
                "statutory_days": 10, "promised_days": 1 + i % 3, "output": f"{prefix}-out-{i}",
                "depends_on": codes[max(0, i - 2):i]})
        bundles.append({"code": f"{prefix}-{n}", "name": f"合成{n}", "name_en": f"Synthetic {n}",
                        "life_event": "synthetic", "lead": "health", "matters": codes,
                        "situations": [{"code": "all", "question": "全部?", "question_en": "All?",
                                        "matters": codes[-1:]}]})
    return {"elements": elements, "materials": materials, "matters": matters, "bundles": bundles}
