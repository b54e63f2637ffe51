"""The cost estimate as people and scripts read it: the Markdown-ish text report and the JSON shape."""

from __future__ import annotations

from stackloom.report.cost import ASSUMPTIONS, PRICES_LABEL, Estimate, usd


def report(result: Estimate) -> str:
    found = result.inventory
    lines = [
        f"{found.system}/{found.environment}: estimated monthly cost, on-demand, {found.region} "
        f"({result.prices.get('currency', 'USD')})",
        f"Deploy-time parameters: {found.built.parameter_note() or '(none)'}",
        f"Prices: prices/{result.prices.get('region', found.region)}.json, {PRICES_LABEL(result.prices)}",
        "",
    ]
    rows = [("component", "quantity", "unit price", "monthly")]
    rows += [(line.component, line.quantity, line.unit_price, usd(line.monthly)) for line in result.lines]
    widths = [max(len(row[index]) for row in rows) for index in range(4)]
    for number, row in enumerate(rows):
        lines.append(
            "  "
            + "  ".join(
                cell.ljust(widths[index]) if index < 3 else cell.rjust(widths[index]) for index, cell in enumerate(row)
            )
        )
        if number == 0:
            lines.append("  " + "  ".join("-" * width for width in widths))
    lines.append("  " + " " * (sum(widths[:3]) + 4) + "  " + ("-" * widths[3]))
    lines.append("  " + "total".ljust(sum(widths[:3]) + 4) + "  " + usd(result.total).rjust(widths[3]))
    if result.switched_off:
        lines += ["", "Not created with these parameter values (not in the total):"]
        lines += [f"  - {item}" for item in result.switched_off]
    if result.notes:
        lines += ["", "Notes:"]
        lines += [f"  - {item}" for item in result.notes]
    lines += ["", "Not priced:"] + [f"  - {item}" for item in result.unpriced]
    lines += ["", "Assumptions (change with --assume NAME=VALUE):"]
    for name, assumption in ASSUMPTIONS.items():
        if assumption.applies and not getattr(result.inventory, assumption.applies):
            continue
        value = result.assumptions[name]
        changed = "" if value == assumption.value else f" (default {assumption.value:g})"
        lines.append(f"  {name} = {value:g} {assumption.unit}{changed}: {assumption.description}")
    if result.nat_options:
        zones = next((option.gateways for option in result.nat_options if option.name == "per-az"), 1)
        lines += [
            "",
            f"NAT trade-off ({zones} AZ{'s' if zones != 1 else ''}, "
            f"{result.assumptions['nat_gb_per_month']:g} GB/month through NAT; NAT hours, Elastic IPs, "
            f"data processed, cross-AZ traffic):",
        ]
        rows = [("option", "gateways", "monthly", "vs now", "")]
        for option in result.nat_options:
            rows.append(
                (
                    option.name + (" (now)" if option.current else ""),
                    str(option.gateways),
                    usd(option.monthly),
                    ("+" if option.delta > 0 else "-" if option.delta < 0 else "±") + usd(abs(option.delta)),
                    option.note,
                )
            )
        widths = [max(len(row[index]) for row in rows) for index in range(4)]
        for row in rows:
            lines.append(
                "  "
                + "  ".join(
                    cell.ljust(widths[index]) if index in (0,) else cell.rjust(widths[index])
                    for index, cell in enumerate(row[:4])
                )
                + "  "
                + row[4]
            )
    lines += ["", "Price sources:"]
    table = result.prices.get("prices", {})
    for key in result.used_prices() + ["inter_az_gb", "vpc_interface_endpoint_hour", "vpc_interface_endpoint_gb"]:
        entry = table.get(key, {})
        if key in result.used_prices() or result.nat_options:
            lines.append(f"  {key}: {entry.get('per', '')} - {entry.get('source', '')}")
    lines += [f"  ({result.prices.get('basis', '')})"]
    return "\n".join(_dedupe(lines)) + "\n"


def _dedupe(lines: list[str]) -> list[str]:
    """Drop repeated source lines (a price used by several components)."""
    seen, result = set(), []
    for line in lines:
        if line.startswith("  ") and " - https://" in line:
            if line in seen:
                continue
            seen.add(line)
        result.append(line)
    return result


def as_json(result: Estimate) -> dict:
    found = result.inventory
    return {
        "target": f"{found.system}/{found.environment}",
        "region": found.region,
        "currency": result.prices.get("currency", "USD"),
        "prices_published": result.prices.get("published"),
        "parameters": found.built.values,
        "total_monthly": result.total,
        "lines": [
            {
                "component": line.component,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "monthly": line.monthly,
                "prices": list(line.prices),
            }
            for line in result.lines
        ],
        "not_created": result.switched_off,
        "notes": result.notes,
        "not_priced": result.unpriced,
        "assumptions": result.assumptions,
        "nat_tradeoff": [
            {
                "option": option.name,
                "gateways": option.gateways,
                "monthly": round(option.monthly, 2),
                "delta": round(option.delta, 2),
                "current": option.current,
                "note": option.note,
            }
            for option in result.nat_options
        ],
        "sources": {key: result.prices["prices"][key].get("source") for key in result.used_prices()},
    }
