using Connet.Client;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

public static class ConnetClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ConnetClient"/> as a singleton and hosted service, with its options (validated when the
    /// host starts) and <see cref="TimeProvider.System"/>, each unless already registered.
    /// </summary>
    public static IServiceCollection AddConnetClient(this IServiceCollection services, Action<ConnetClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<ConnetClientOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConnetClientOptions>, ConnetClientOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider => new ConnetClient(
            provider.GetRequiredService<IOptions<ConnetClientOptions>>().Value,
            provider.GetService<ILoggerFactory>(),
            provider.GetRequiredService<TimeProvider>()));
        services.AddHostedService(provider => provider.GetRequiredService<ConnetClient>());
        return services;
    }
}
