using Microsoft.Extensions.Options;

namespace Connet.Client;

/// <summary>Reports every <see cref="ConnetClientOptions.Validate"/> error at host start.</summary>
internal sealed class ConnetClientOptionsValidator : IValidateOptions<ConnetClientOptions>
{
    public ValidateOptionsResult Validate(string? name, ConnetClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
