// app/api/projects/[project_id]/deploy/route.ts of the platform (Next.js app router,
// `export const runtime = 'nodejs'`): checks that the caller owns the project, provisions its
// database, hands DATABASE_URL to the app, and answers with the masked info or the mapped error.
import {
  ClaudableError, envForApp, httpStatusFor, provisionProjectDatabase, writeEnvFile,
} from 'claudable-client';

export const runtime = 'nodejs';

interface Session { userId: string }

// A stand-in for the platform's session and project store.
async function currentSession(request: Request): Promise<Session | null> {
  const user = request.headers.get('x-user-id');
  return user ? { userId: user } : null;
}
async function projectOwner(projectId: string): Promise<string | null> {
  return projectId ? 'team-7' : null;
}

export async function POST(request: Request, context: { params: { project_id: string } }): Promise<Response> {
  const projectId = context.params.project_id;
  const session = await currentSession(request);
  if (!session) return Response.json({ error: 'sign in first' }, { status: 401 });
  const owner = await projectOwner(projectId);
  if (owner === null || owner !== session.userId) return Response.json({ error: 'not your project' }, { status: 403 });

  try {
    const info = await provisionProjectDatabase(projectId, owner);
    // Next.js gives a variable in the environment precedence over .env files, and `next dev`
    // never reads .env.production: inject it into the app's process where you start it ...
    const appEnv = envForApp(info);
    // ... and/or write it for `next start` in the project's directory.
    if (process.env.PROJECTS_DIR) await writeEnvFile(process.env.PROJECTS_DIR, projectId, info.databaseUrl);
    void appEnv;  // pass to child_process.spawn(command, args, { env: appEnv })
    return Response.json({ database: info });  // JSON.stringify masks the password and the URL's password
  } catch (error) {
    const message = error instanceof ClaudableError ? error.message : 'internal error';
    return Response.json({ error: message, kind: error instanceof ClaudableError ? error.kind : 'internal' },
                         { status: httpStatusFor(error) });
  }
}
