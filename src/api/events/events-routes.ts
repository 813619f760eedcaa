import { Counter } from 'prom-client';
import { z } from 'zod';
import { conflict, notFound } from '../http/problem';
import { route, type RouteDeclaration } from '../http/route';
import type { ApiMetrics } from '../metrics/metrics';
import { GUARDED, json, named, problem } from '../openapi/responses';
import { transactionId } from '../transactions/submission-schemas';
import { READ } from '../transactions/transaction-docs';
import { DELIVERY_STATES, EVENT_ID_PATTERN } from '../../domain/callbacks';
import type { EventsService } from './events-service';

export interface EventsRoutesDeps {
  events: EventsService;
  metrics: ApiMetrics;
}

const TAGS = ['callbacks'];
const BASE = '/api/transactions/:id/events';

const eventId = z
  .string()
  .regex(EVENT_ID_PATTERN, { message: 'must be an event ID as the event log shows it (evt_…)' });

const deliverySchema = z.object({
  endpoint: z.number().int().meta({ description: "the URL's position: the client's callback_url first" }),
  target: z.enum(['callback_url', 'subscriber']).meta({
    description: "the client's callback_url, or one of the operator's subscribers",
  }),
  url: z
    .string()
    .nullable()
    .meta({ description: "the client's callback_url; null for a subscriber (the operator's address)" }),
  state: z.enum(DELIVERY_STATES),
  attempts: z.number().int(),
  last_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  next_attempt_at: z
    .string()
    .nullable()
    .meta({ description: 'while delivering: when the next attempt starts' }),
});
const eventLogSchema = z.object({
  items: z.array(
    z.object({
      id: z.string(),
      type: z.enum(['transaction.completed', 'transaction.failed', 'transaction.cancelled']),
      created_at: z.string(),
      deliveries: z.array(deliverySchema),
    }),
  ),
});
const redeliverySchema = z.object({ event_id: z.string(), deliveries_started: z.number().int() });

/**
 * A transaction's callback events and their delivery log, and redelivery. Deliveries by outcome are counted by
 * the worker (`txflow_callback_deliveries`, `txflow_callback_attempts`); the API counts redeliveries.
 */
export function eventsRoutes({ events, metrics }: EventsRoutesDeps): RouteDeclaration[] {
  const redeliveries = new Counter({
    name: 'txflow_api_callback_redeliveries_total',
    help: 'Redelivery requests by outcome: started, in_flight (409), not_found (404)',
    labelNames: ['outcome'],
    registers: [metrics.registry],
  });
  for (const outcome of ['started', 'in_flight', 'not_found']) redeliveries.inc({ outcome }, 0);
  return [
    route({
      method: 'get',
      path: BASE,
      operationId: 'listTransactionEvents',
      summary: "A transaction's callback events and their delivery log",
      description:
        'One event per final status (a retried transaction may have several), each with one delivery per ' +
        'endpoint: state (delivering, delivered, gave_up, stopped_by_410), attempts, last status or error, next ' +
        'attempt. Read from Temporal visibility: a delivery started a moment ago may show a moment later.',
      tags: TAGS,
      params: z.object({ id: transactionId }),
      responses: {
        '200': json('the events, oldest first', named('CallbackEventLog', eventLogSchema)),
        ...READ,
        ...GUARDED,
      },
      handler: async ({ params: { id } }, _req, res) => {
        const items = await events.list(id);
        if (!items) throw notFound(`Transaction ${id}`);
        res.json({ items });
      },
    }),
    route({
      method: 'post',
      path: `${BASE}/:eventId/redeliver`,
      operationId: 'redeliverTransactionEvent',
      summary: 'Send a callback event again to each of its endpoints',
      description:
        "The same event ID and body, signed anew; retried like the first delivery. Only to the transaction's own " +
        'callback_url and the subscribers configured now: not to one removed since (404 when none is left).',
      tags: TAGS,
      params: z.object({ id: transactionId, eventId }),
      responses: {
        '202': json('the delivery has started again', named('CallbackRedelivery', redeliverySchema)),
        '409': problem('a delivery of this event is still in flight'),
        ...READ,
        ...GUARDED,
      },
      handler: async ({ params }, _req, res) => {
        const result = await events.redeliver(params.id, params.eventId);
        redeliveries.inc({ outcome: result.kind });
        if (result.kind === 'not_found') {
          // Also an event whose endpoints are all subscribers the operator has since removed.
          throw notFound(
            `Event ${params.eventId} of transaction ${params.id} (to an endpoint still configured)`,
          );
        }
        if (result.kind === 'in_flight') {
          throw conflict(
            `Event ${params.eventId} is still being delivered: redeliver it once that has ended`,
          );
        }
        res.status(202).json({ event_id: params.eventId, deliveries_started: result.runs });
      },
    }),
  ];
}
