// connect.scenarios.ts with the official `phoenix` client (see harness.ts `clientSuite`).
import { clientSuite } from "./harness.js";
import { connectScenarios } from "./connect.scenarios.js";

clientSuite("phoenix", connectScenarios);
