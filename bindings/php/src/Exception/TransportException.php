<?php

declare(strict_types=1);

namespace GoldPlan\Exception;

class TransportException extends GoldPlanException
{
}
