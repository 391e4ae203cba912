// broadcast.scenarios.ts with the official `phoenix` client (see harness.ts `clientSuite`).
import { clientSuite } from "./harness.js";
import { broadcastScenarios } from "./broadcast.scenarios.js";

clientSuite("phoenix", broadcastScenarios);
