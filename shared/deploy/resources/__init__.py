"""One module per kind of resource; each turns its part of infra/ into plan items (see
:mod:`shared.deploy.commands`). :func:`shared.deploy.plan.build_plan` puts them in order."""
