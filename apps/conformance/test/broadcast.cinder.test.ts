// broadcast.scenarios.ts with `@cinder/client` (see harness/clients.ts `clientSuite`).
import { clientSuite } from "./harness/index.js";
import { broadcastScenarios } from "./broadcast.scenarios.js";

clientSuite("cinder", broadcastScenarios);
