// app/api/projects/[project_id]/deploy/route.ts of the platform (Next.js 15, app router,
// nodejs runtime): checks that the caller owns the project, provisions its database, builds
// the app's environment (DATABASE_URL and DIRECT_URL, a short base list, and only the
// platform variables it names), writes the project's .env.production, and answers with the
// masked info or the mapped error.
import {
  ClaudableError, envForApp, httpStatusFor, provisionProjectDatabase, writeEnvFile,
} from 'claudable-client';

export const runtime = 'nodejs';

interface Session { userId: string }

// Stand-ins for the platform's session and project store: the caller is the x-user-id
// header, and every project belongs to team-7.
async function currentSession(request: Request): Promise<Session | null> {
  const user = request.headers.get('x-user-id');
  return user ? { userId: user } : null;
}
async function projectOwner(projectId: string): Promise<string | null> {
  return projectId ? 'team-7' : null;
}

// Next.js 15: a route handler's params arrive as a Promise.
export async function POST(request: Request,
                           context: { params: Promise<{ project_id: string }> }): Promise<Response> {
  const { project_id: projectId } = await context.params;
  const session = await currentSession(request);
  if (!session) return Response.json({ error: 'sign in first' }, { status: 401 });
  const owner = await projectOwner(projectId);
  if (owner === null || owner !== session.userId) return Response.json({ error: 'not your project' }, { status: 403 });

  try {
    const info = await provisionProjectDatabase(projectId, owner);  // the admin URL from DB_ADMIN_URL
    // The deploy bundle: the app's whole environment. DATABASE_URL and DIRECT_URL; PATH, HOME,
    // NODE_ENV, PORT, TZ and LANG of this process; and STRIPE_SECRET_KEY because it is named.
    // Nothing else of this process passes: not DB_ADMIN_URL, no PG* variable, no other secret.
    // Next.js gives a variable in the environment precedence over .env files, and `next dev`
    // never reads .env.production: start the app with it,
    // child_process.spawn(command, args, { env: appEnv }) ...
    const appEnv = envForApp(info, { pass: ['STRIPE_SECRET_KEY'] });
    // ... and/or write DATABASE_URL and DIRECT_URL for `next start` in the project's directory.
    if (process.env.PROJECTS_DIR) await writeEnvFile(process.env.PROJECTS_DIR, projectId, info);
    // JSON.stringify masks the passwords; of the app's environment, only the names go out.
    return Response.json({ database: info, appEnv: Object.keys(appEnv).sort() });
  } catch (error) {
    const claudable = error instanceof ClaudableError;
    return Response.json({ error: claudable ? error.message : 'internal error', kind: claudable ? error.kind : 'internal' },
                         { status: httpStatusFor(error) });
  }
}
