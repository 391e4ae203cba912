// connect.scenarios.ts with the official `phoenix` client (see harness/clients.ts `clientSuite`).
import { clientSuite } from "./harness/index.js";
import { connectScenarios } from "./connect.scenarios.js";

clientSuite("phoenix", connectScenarios);
