// broadcast.scenarios.ts with `@cinder/client` (see harness.ts `clientSuite`).
import { clientSuite } from "./harness.js";
import { broadcastScenarios } from "./broadcast.scenarios.js";

clientSuite("cinder", broadcastScenarios);
