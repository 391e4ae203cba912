// presence.scenarios.ts with the official `phoenix` client (see harness.ts `clientSuite`).
import { clientSuite } from "./harness.js";
import { presenceScenarios } from "./presence.scenarios.js";

clientSuite("phoenix", presenceScenarios);
