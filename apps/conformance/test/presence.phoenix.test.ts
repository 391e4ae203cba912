// presence.scenarios.ts with the official `phoenix` client (see harness/clients.ts `clientSuite`).
import { clientSuite } from "./harness/index.js";
import { presenceScenarios } from "./presence.scenarios.js";

clientSuite("phoenix", presenceScenarios);
