using Connet.Server.Control;
using Connet.Server.Control.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

public static class ControlServerServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ControlServer"/> as a hosted service with its options (validated when the host
    /// starts), an <see cref="IControlStore"/> (SQLite in <see cref="ControlServerOptions.StoreDirectory"/> when set,
    /// else in memory) and <see cref="TimeProvider.System"/>, each unless
    /// already registered.
    /// </summary>
    public static IServiceCollection AddConnetControlServer(this IServiceCollection services, Action<ControlServerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<ControlServerOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ControlServerOptions>, ControlServerOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IControlStore>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<ControlServerOptions>>().Value;
            return options.StoreDirectory is null
                ? new InMemoryControlStore()
                : new SqliteControlStore(options.StoreDirectory, options.TimeProvider ?? provider.GetRequiredService<TimeProvider>());
        });
        services.TryAddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<ControlServerOptions>>().Value;
            options.TimeProvider ??= provider.GetRequiredService<TimeProvider>();
            return new ControlServer(options, provider.GetRequiredService<IControlStore>(), provider.GetService<ILoggerFactory>());
        });
        services.AddHostedService(provider => provider.GetRequiredService<ControlServer>());
        return services;
    }
}
