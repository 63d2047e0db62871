-- `agentstate now`, its heading: per tenant, the instant rta_now is as of and its counts.
SELECT l.vendor, l.tenant_id, strftime(l.as_of, '%Y-%m-%d %H:%M:%S') AS as_of,
       count(r.agent_id) AS agents,
       count(r.agent_id) FILTER (WHERE NOT r.in_adherence) AS out_of_adherence
FROM (SELECT vendor, tenant_id, max(last_seen) AS as_of FROM agent_days GROUP BY ALL) AS l
LEFT JOIN rta_now AS r ON r.vendor = l.vendor AND r.tenant_id = l.tenant_id
GROUP BY ALL
ORDER BY l.vendor, l.tenant_id;
