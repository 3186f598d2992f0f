using Connet.Relay;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

public static class RelayServerServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="RelayServer"/> as a singleton and hosted service, with its options (validated when the
    /// host starts) and <see cref="TimeProvider.System"/>, each unless already registered.
    /// </summary>
    public static IServiceCollection AddConnetRelayServer(this IServiceCollection services, Action<RelayServerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<RelayServerOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RelayServerOptions>, RelayServerOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<RelayServerOptions>>().Value;
            return new RelayServer(options, provider.GetService<ILoggerFactory>(), options.TimeProvider ?? provider.GetRequiredService<TimeProvider>());
        });
        services.AddHostedService(provider => provider.GetRequiredService<RelayServer>());
        return services;
    }
}
