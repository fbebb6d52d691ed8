import { type Command, requireArg, table } from '../command.ts';

export const projectCreate: Command = {
  name: 'project create',
  usage: 'project create <name> [--description TEXT] [--classes a,b,c]',
  summary: 'Creates a project (a product or line) with its defect classes.',
  options: { description: { type: 'string' }, classes: { type: 'string' } },
  async run(ctx, values, [name]) {
    const classes = typeof values.classes === 'string' ? values.classes.split(',').map((c) => ({ name: c.trim() })).filter((c) => c.name) : [];
    const project = await ctx.call('createProject', {
      name: requireArg(name, 'project name'),
      description: values.description as string | undefined,
      classes,
    });
    ctx.out(ctx.json ? JSON.stringify(project) : `Created project ${project.id} "${project.name}"`);
  },
};

export const projectList: Command = {
  name: 'project list',
  readOnly: true,
  usage: 'project list',
  summary: 'Lists projects and their defect classes.',
  async run(ctx) {
    const projects = await ctx.call('listProjects', undefined);
    if (ctx.json) return ctx.out(JSON.stringify(projects));
    if (projects.length === 0) return ctx.out('No projects yet.');
    ctx.out(table([['ID', 'NAME', 'CLASSES'], ...projects.map((p) => [p.id, p.name, p.classes.map((c) => c.name).join(', ') || '-'])]));
  },
};
