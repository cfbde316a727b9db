#!/usr/bin/env node
// Copies the groups of deploy/prometheus/alerts.yml into prometheus-rule.yaml (the Prometheus
// Operator's form of the same rules). Run after editing alerts.yml:
//   node deploy/kubernetes/monitoring/sync-rules.mjs
// (uses the `yaml` package of tests/: `npm ci` there, or `make setup`).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');
const YAML = createRequire(path.join(root, 'tests', 'package.json'))('yaml');
const groups = YAML.parse(readFileSync(path.join(root, 'deploy', 'prometheus', 'alerts.yml'), 'utf8')).groups;
const file = path.join(here, 'prometheus-rule.yaml');
const doc = YAML.parseDocument(readFileSync(file, 'utf8'));
doc.setIn(['spec', 'groups'], doc.createNode(groups));
writeFileSync(file, doc.toString({ lineWidth: 0 }));
console.log(`prometheus-rule.yaml: ${groups.length} groups from alerts.yml`);
