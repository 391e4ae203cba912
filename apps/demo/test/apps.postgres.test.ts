/** The apps' contract on PostgreSQL (DATABASE_URL; here CINDER_TEST_DATABASE_URL or the local `test` database). */
import { appContract } from "./support/contract.js";
import { retroContract } from "./support/retro-contract.js";

appContract("postgres");

retroContract("postgres");
