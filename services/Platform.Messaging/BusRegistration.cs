using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Platform.Messaging;

public static class BusRegistration
{
    /// <summary>
    /// MassTransit over RabbitMQ with the platform's conventions: queues prefixed with the service's name
    /// (so two services never share a queue by accident), fixed exchange names for the contracts, durable
    /// queues and persistent messages with publisher confirms (MassTransit's RabbitMQ defaults), and bare
    /// JSON accepted beside MassTransit's envelope for outside publishers.
    /// </summary>
    public static IHostApplicationBuilder AddPlatformBus(
        this IHostApplicationBuilder builder, string queuePrefix, Action<IBusRegistrationConfigurator>? consumers = null)
    {
        builder.Services.AddOptions<RabbitMqOptions>()
            .Bind(builder.Configuration.GetSection(RabbitMqOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddSingleton<ErrorQueueCounter>();
        builder.Services.AddHealthChecks().AddCheck<RabbitMqHealthCheck>("rabbitmq", tags: ["ready"], timeout: TimeSpan.FromSeconds(2));
        builder.Services.AddMassTransit(bus =>
        {
            // MassTransit 8.5 reports usage to its vendor over the internet by default; a platform's services
            // send nothing outside the installation (found in the Scheduler's log: the lookup failed on a closed network).
            bus.DisableUsageTelemetry();
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter(queuePrefix, includeNamespace: false));
            bus.AddConfigureEndpointsCallback((context, _, endpoint) =>
                ErrorQueueCounter.AddTo(endpoint, context.GetRequiredService<ErrorQueueCounter>(),
                    context.GetRequiredService<IOptions<RabbitMqOptions>>().Value.Username));
            consumers?.Invoke(bus);
            bus.UsingRabbitMq((context, cfg) =>
            {
                var options = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                cfg.Host(options.Host, (ushort)options.Port, options.VirtualHost, h =>
                {
                    h.Username(options.Username);
                    h.Password(options.Password);
                    h.PublisherConfirmation = true;
                });
                // The bus's own temporary endpoint carries the service's prefix too, so that the broker user's
                // permissions (eng/rabbitmq-users.tsv) can be limited to the service's own names.
                cfg.OverrideDefaultBusEndpointQueueName($"{queuePrefix}-bus-{NewId.Next():N}");
                PublisherIdentity.Stamp(cfg, options.Username);
                WireFormat.ApplyEntityNames(cfg);
                cfg.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType, isDefault: false);
                cfg.UseFilter(new OutsideTraceContext());
                cfg.ConfigureEndpoints(context);
            });
        });
        return builder;
    }
}
