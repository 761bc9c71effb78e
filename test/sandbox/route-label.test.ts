// The sandbox's metrics label requests by route, never by raw path: a lease pointer, a PIX key or a tax id in
// a label would make a new series per request (and put personal data into the metrics).
import { expect, test } from 'bun:test';
import { routeLabelOf } from '../../services/bacen-sandbox/transport/pipeline.ts';

test('ids in a path become :id; route words and ISPBs stay', () => {
  expect(routeLabelOf('/api/v1/in/12345678/stream/3f0c9a52-1b7e-4c1e-9a53-6f1f5b7c2d10')).toBe('/api/v1/in/12345678/stream/:id');
  expect(routeLabelOf('/api/v1/in/12345678/stream/start')).toBe('/api/v1/in/12345678/stream/start');
  expect(routeLabelOf('/api/v1/out/12345678/msgs')).toBe('/api/v1/out/12345678/msgs');
  expect(routeLabelOf('/api/v2/entries/fulano@example.com')).toBe('/api/v2/entries/:id');
  expect(routeLabelOf('/api/v2/entries/11122233300')).toBe('/api/v2/entries/:id');
  expect(routeLabelOf('/api/v2/entries/+5511987654321/delete')).toBe('/api/v2/entries/:id/delete');
  expect(routeLabelOf('/api/v2/infraction-reports/')).toBe('/api/v2/infraction-reports/');
  expect(routeLabelOf(`/api/v2/cids/entries/${'ab12'.repeat(16)}`)).toBe('/api/v2/cids/entries/:id');
});
