using Connet.Host.Commands;
using Connet.Host.Configuration;

return await ConnetCli.RunAsync(args, Console.Out, Console.Error, ConfigContext.FromProcess()).ConfigureAwait(false);
