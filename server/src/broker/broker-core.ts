import type { Logger } from "pino";
import type { Store } from "../store/store.js";
import type { AttemptOutcomes } from "./attempt-outcomes.js";
import type { BrokerLimits } from "./broker-limits.js";
import type { Dispatcher } from "./dispatcher.js";
import type { GroupCommit } from "./group-commit.js";
import type { LeaseExpiry } from "./lease-expiry.js";
import type { LeaseTable } from "./lease-table.js";
import type { RunWatchers } from "./run-watchers.js";
import type { ScheduledWakeUp } from "./scheduled-wake-up.js";

/**
 * The parts of one broker, as each part sees the others. `createBroker` makes them and
 * wires them here; a part reaches another only through this, so each can be built alone
 * around fakes in a test.
 */
export interface BrokerCore {
  readonly store: Store;
  readonly logger: Logger;
  readonly limits: BrokerLimits;
  readonly now: () => number;
  /** This server's id, written on the leases it grants. */
  readonly serverId: string;
  table: LeaseTable;
  commits: GroupCommit;
  dispatcher: Dispatcher;
  wakeUp: ScheduledWakeUp;
  watchers: RunWatchers;
  outcomes: AttemptOutcomes;
  expiry: LeaseExpiry;
  closing: boolean;
}
