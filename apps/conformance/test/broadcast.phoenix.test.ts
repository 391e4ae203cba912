// broadcast.scenarios.ts with the official `phoenix` client (see harness/clients.ts `clientSuite`).
import { clientSuite } from "./harness/index.js";
import { broadcastScenarios } from "./broadcast.scenarios.js";

clientSuite("phoenix", broadcastScenarios);
