using Microsoft.Extensions.Options;

namespace Connet.Relay;

/// <summary>Reports every <see cref="RelayServerOptions.Validate"/> error at host start.</summary>
internal sealed class RelayServerOptionsValidator : IValidateOptions<RelayServerOptions>
{
    public ValidateOptionsResult Validate(string? name, RelayServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
